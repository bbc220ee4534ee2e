import CCurl
import CPalisadeShims
import Foundation
import Synchronization

/// What one transfer is to do, in plain Swift values.
struct CurlTransferSpec: Sendable {
    let url: String
    let method: HTTPRequest.Method
    let headers: [String]
    let body: [UInt8]
    /// `host:port:address[,address…]`: where curl is to connect.
    let pinnedAddresses: String
    /// The addresses (4 or 16 octets each) a socket may be opened to; any other is refused.
    let allowedAddresses: [[UInt8]]
    let caFile: String?
    let userAgent: String
    let connectTimeout: Duration
    let timeout: Duration
    let maxBodySize: Int
    /// An SMTP STARTTLS probe instead of an HTTPS request: `url` is `smtp://host:port/helo-name`; curl
    /// says EHLO, requires STARTTLS, completes the handshake without judging the certificate (the caller
    /// matches it, e.g. against TLSA records), sends NOOP and QUIT, and keeps the presented chain.
    var smtpProbe = false
}

/// What one transfer did, copied out of curl.
struct CurlOutcome: Sendable {
    let code: CURLcode
    let message: String
    let status: Int
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    let primaryIP: String
    /// CURLINFO_HTTP_VERSION: 2 for HTTP/1.1, 3 for HTTP/2.
    let httpVersion: Int
    /// The OpenSSL verification result (X509_V_*), 0 when verification passed or did not run.
    let verifyResult: Int
    let redirectURL: String?
    let bodyTooLarge: Bool
    /// The chain the server presented, leaf first, PEM (CURLINFO_CERTINFO; SMTP probes only).
    var certificates: [String] = []
}

/// The thin wrapper over one libcurl multi handle and the thread that drives it: the only place in
/// `HTTPFetch` that touches C pointers.
///
/// Transfers are handed over through a locked queue and `curl_multi_wakeup`; the thread adds them,
/// runs `curl_multi_perform`, collects finished ones and sleeps in `curl_multi_poll`. Connections and
/// TLS sessions are reused across transfers, and HTTP/2 streams share a connection where the server
/// offers it.
final class CurlMulti: Sendable {
    /// The multi handle. libcurl allows `curl_multi_wakeup` from any thread; every other call on it is
    /// made by the driving thread only. Freed once, by that thread, when it stops.
    private struct Handle: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }

    private struct Shared: ~Copyable {
        var queued: [CurlTransfer] = []
        var cancelled: [UInt64] = []
        var stopping = false
        var nextSerial: UInt64 = 0
    }

    private let handle: Handle
    private let shared = Mutex(Shared())
    private let stopped = Mutex<Bool>(false)

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(maxConnections: Int) {
        _ = Self.globalInit
        let multi = curl_multi_init()!
        _ = palisade_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        _ = palisade_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        handle = Handle(pointer: multi)
        let thread = Thread { [handle, shared = self] in shared.run(handle) }
        thread.name = "palisade.http.curl"
        thread.start()
    }

    /// Queues a transfer; its completion runs on the curl thread when it ends.
    func submit(_ spec: CurlTransferSpec, completion: @escaping @Sendable (CurlOutcome?) -> Void) -> CurlTransfer {
        let serial = shared.withLock { shared in
            shared.nextSerial += 1
            return shared.nextSerial
        }
        let transfer = CurlTransfer(serial: serial, spec: spec, completion: completion)
        // The wake-up is sent under the lock: the thread frees the handle only after it has seen
        // `stopping` under the same lock, so a handle being woken is never a freed one.
        let accepted = shared.withLock { shared -> Bool in
            guard !shared.stopping else { return false }
            shared.queued.append(transfer)
            curl_multi_wakeup(handle.pointer)
            return true
        }
        if !accepted { transfer.finish(nil) }
        return transfer
    }

    /// Stops a transfer if it is still running; its completion runs with nil. Transfers are named by
    /// serial number, so a late cancel can never hit a later transfer.
    func cancel(_ transfer: CurlTransfer) {
        shared.withLock { shared in
            guard !shared.stopping else { return }
            shared.cancelled.append(transfer.serial)
            curl_multi_wakeup(handle.pointer)
        }
    }

    /// Ends the thread; transfers still running complete with nil.
    func shutdown() {
        shared.withLock { shared in
            guard !shared.stopping else { return }
            shared.stopping = true
            curl_multi_wakeup(handle.pointer)
        }
    }

    private func run(_ handle: Handle) {
        let multi = handle.pointer
        var active: [UInt64: CurlTransfer] = [:]
        var byEasy: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        func remove(_ transfer: CurlTransfer, outcome: CurlOutcome?) {
            curl_multi_remove_handle(multi, transfer.easy)
            active.removeValue(forKey: transfer.serial)
            byEasy.removeValue(forKey: transfer.easy)
            transfer.finish(outcome)
        }
        while true {
            let (queued, cancelled, stopping) = shared.withLock { shared in
                defer {
                    shared.queued.removeAll()
                    shared.cancelled.removeAll()
                }
                return (shared.queued, shared.cancelled, shared.stopping)
            }
            for transfer in queued {
                if curl_multi_add_handle(multi, transfer.easy) == CURLM_OK {
                    active[transfer.serial] = transfer
                    byEasy[transfer.easy] = transfer
                } else {
                    transfer.finish(nil)
                }
            }
            for serial in cancelled {
                if let transfer = active[serial] { remove(transfer, outcome: nil) }
            }
            if stopping {
                for transfer in Array(active.values) { remove(transfer, outcome: nil) }
                curl_multi_cleanup(multi)
                return
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let transfer = byEasy[easy] else { continue }
                let code = message.pointee.data.result
                remove(transfer, outcome: transfer.outcome(code: code))
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }
}

/// One transfer's easy handle and the buffers its callbacks fill.
///
/// Built on the submitting thread, then touched only by the curl thread until `finish`, which frees
/// the handle: one owner at a time, never two at once.
final class CurlTransfer: @unchecked Sendable {
    let serial: UInt64
    let easy: UnsafeMutableRawPointer
    fileprivate let allowedAddresses: [[UInt8]]
    private let completion: @Sendable (CurlOutcome?) -> Void
    private let maxBodySize: Int
    private var body: [UInt8] = []
    private var headerLines: [String] = []
    private var tooLarge = false
    private var finished = false
    private var lists: [UnsafeMutablePointer<curl_slist>] = []
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(serial: UInt64, spec: CurlTransferSpec, completion: @escaping @Sendable (CurlOutcome?) -> Void) {
        self.serial = serial
        allowedAddresses = spec.allowedAddresses
        easy = curl_easy_init()!
        self.completion = completion
        maxBodySize = spec.maxBodySize
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let me = Unmanaged.passUnretained(self).toOpaque()
        func long(_ option: CURLoption, _ value: Int) { _ = palisade_curl_setopt_long(easy, option, value) }
        func string(_ option: CURLoption, _ value: String?) { _ = palisade_curl_setopt_string(easy, option, value) }
        string(CURLOPT_URL, spec.url)
        string(CURLOPT_PROXY, "")
        long(CURLOPT_NOSIGNAL, 1)
        long(CURLOPT_FOLLOWLOCATION, 0)
        if spec.smtpProbe {
            string(CURLOPT_PROTOCOLS_STR, "smtp")
            long(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
            // The certificate is judged by the caller (DANE does not use the WebPKI), so it is only collected.
            long(CURLOPT_SSL_VERIFYPEER, 0)
            long(CURLOPT_SSL_VERIFYHOST, 0)
            long(CURLOPT_CERTINFO, 1)
            string(CURLOPT_CUSTOMREQUEST, "NOOP")
            long(CURLOPT_FRESH_CONNECT, 1)
            long(CURLOPT_FORBID_REUSE, 1)
            // A resumed session presents no certificate (and curl 8.12 and later share sessions across handles).
            long(CURLOPT_SSL_SESSIONID_CACHE, 0)
        } else {
            string(CURLOPT_PROTOCOLS_STR, "https")
            long(CURLOPT_SSL_VERIFYPEER, 1)
            long(CURLOPT_SSL_VERIFYHOST, 2)
            long(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
            long(CURLOPT_PIPEWAIT, 1)
        }
        long(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(spec.connectTimeout))
        long(CURLOPT_TIMEOUT_MS, Self.milliseconds(spec.timeout))
        long(CURLOPT_MAXFILESIZE, spec.maxBodySize)
        string(CURLOPT_USERAGENT, spec.userAgent)
        if let caFile = spec.caFile {
            string(CURLOPT_CAINFO, caFile)
            string(CURLOPT_CAPATH, nil)
        }
        _ = palisade_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        // "+" makes the entry expire like a resolved one instead of staying in the shared cache for ever.
        if let resolve = curl_slist_append(nil, "+" + spec.pinnedAddresses) {
            lists.append(resolve)
            _ = palisade_curl_setopt_pointer(easy, CURLOPT_RESOLVE, resolve)
        }
        var headers: UnsafeMutablePointer<curl_slist>?
        for header in spec.headers { headers = curl_slist_append(headers, header) }
        if let headers {
            lists.append(headers)
            _ = palisade_curl_setopt_pointer(easy, CURLOPT_HTTPHEADER, headers)
        }
        if spec.method == .post {
            long(CURLOPT_POST, 1)
            long(CURLOPT_POSTFIELDSIZE, spec.body.count)
            spec.body.withUnsafeBytes { bytes in
                _ = palisade_curl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(errorBuffer)))
            }
        }
        // The pin is enforced where the socket is made, not only by seeding curl's DNS cache.
        _ = palisade_curl_setopt_opensocket_function(easy, curlOpenPinnedSocket)
        _ = palisade_curl_setopt_pointer(easy, CURLOPT_OPENSOCKETDATA, me)
        _ = palisade_curl_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, curlWriteBody)
        _ = palisade_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        _ = palisade_curl_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader)
        _ = palisade_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
    }

    fileprivate func append(body data: UnsafeRawBufferPointer) -> Bool {
        guard body.count + data.count <= maxBodySize else {
            tooLarge = true
            return false
        }
        body.append(contentsOf: data)
        return true
    }

    fileprivate func append(header data: UnsafeRawBufferPointer) {
        var bytes = data[...]
        while let last = bytes.last, last == 0x0D || last == 0x0A || last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        // A new status line starts a new response (after 100 Continue, say): keep only the last one's.
        if line.hasPrefix("HTTP/") { headerLines.removeAll() }
        if !line.isEmpty, headerLines.count < 200 { headerLines.append(line) }
    }

    func outcome(code: CURLcode) -> CurlOutcome {
        var status = 0, version = 0, verify = 0
        var ip: UnsafePointer<CChar>?
        var redirect: UnsafePointer<CChar>?
        _ = palisade_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        _ = palisade_curl_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        _ = palisade_curl_getinfo_long(easy, CURLINFO_SSL_VERIFYRESULT, &verify)
        _ = palisade_curl_getinfo_string(easy, CURLINFO_PRIMARY_IP, &ip)
        _ = palisade_curl_getinfo_string(easy, CURLINFO_REDIRECT_URL, &redirect)
        let headers = headerLines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            let value = line.utf8[line.utf8.index(after: colon)...].drop { $0 == 0x20 || $0 == 0x09 }
            return (line[..<colon].lowercased(), String(decoding: value, as: UTF8.self))
        }
        let message = String(cString: errorBuffer)
        return CurlOutcome(
            code: code, message: message.isEmpty ? String(cString: curl_easy_strerror(code)) : message,
            status: status, headers: headers, body: body, primaryIP: ip.map { String(cString: $0) } ?? "",
            httpVersion: version, verifyResult: verify, redirectURL: redirect.map { String(cString: $0) }, bodyTooLarge: tooLarge,
            certificates: certificateChain()
        )
    }

    /// The PEM of each certificate in CURLINFO_CERTINFO: the `Cert:` entry of each one's list.
    private func certificateChain() -> [String] {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard palisade_curl_getinfo_certinfo(easy, &info) == CURLE_OK, let info, let lists = info.pointee.certinfo else { return [] }
        var chain: [String] = []
        for index in 0..<Int(max(0, min(info.pointee.num_of_certs, 16))) {
            var entry = lists[index]
            while let node = entry {
                if let data = node.pointee.data, strncmp(data, "Cert:", 5) == 0 {
                    chain.append(String(cString: data + 5))
                    break
                }
                entry = node.pointee.next
            }
        }
        return chain
    }

    /// Frees the handle and reports; runs once.
    func finish(_ outcome: CurlOutcome?) {
        guard !finished else { return }
        finished = true
        curl_easy_cleanup(easy)
        lists.forEach { curl_slist_free_all($0) }
        errorBuffer.deallocate()
        completion(outcome)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

private let curlWriteBody: palisade_curl_write_callback = { data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return transfer.append(body: UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let curlWriteHeader: palisade_curl_write_callback = { data, size, count, context in
    guard let context else { return 0 }
    Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().append(header: UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

/// Opens a socket only to one of the transfer's pinned addresses; any other is refused (the transfer
/// then fails to connect), so neither a cache miss nor a redirect can reach an address DNS did not give.
private let curlOpenPinnedSocket: curl_opensocket_callback = { context, purpose, address in
    guard let context, let address else { return CURL_SOCKET_BAD }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let family = address.pointee.family
    // curl's `addr` field is the start of a socket address big enough for IPv6; read it in place.
    let socketAddress = UnsafeRawPointer(address) + MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
    let octets: [UInt8]
    switch family {
    case AF_INET:
        octets = withUnsafeBytes(of: socketAddress.loadUnaligned(as: sockaddr_in.self).sin_addr) { Array($0) }
    case AF_INET6:
        octets = withUnsafeBytes(of: socketAddress.loadUnaligned(as: sockaddr_in6.self).sin6_addr) { Array($0) }
    default:
        return CURL_SOCKET_BAD
    }
    guard transfer.allowedAddresses.contains(octets) else { return CURL_SOCKET_BAD }
    return socket(family, address.pointee.socktype, address.pointee.protocol)
}
