import Core
import Foundation
import Metrics
import NIOCore
import Synchronization

/// One connection's requests, read from its bytes (`WKDRequestHead`) and answered in order as they
/// complete, pipelined ones too: a dictionary look-up, then the entry's prebuilt response head with the
/// `Date` line, and its prebuilt body, written as they are (no header encoding, no copy of the body),
/// flushed once per read. A refused request (400, 413, 414, 431, 505) is answered, the sending side is
/// shut and nothing more is read from the connection. A client that does not read its answers is not
/// read from either: while the channel is not writable, requests wait unparsed and reading stops.
/// `/healthz` and `/metrics` are answered only on the plain-HTTP listener (`health` set).
final class WKDHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let content: WKDContent
    /// The last health check's result, on the listener that answers `/healthz` and `/metrics`; nil on the others.
    let health: HealthState?
    /// Bytes not answered yet: an incomplete head, or requests held while the client does not read.
    private var pending: ByteBuffer?
    /// How many of `pending`'s bytes were searched for the end of a head without finding it.
    private var scanned = 0
    private var closing = false
    /// The version of the request being answered (HTTP/1.0 keeps a connection only when told so).
    private var isHTTP10 = false

    init(content: WKDContent, health: HealthState?) {
        self.content = content
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var buffer = unwrapInboundIn(data)
        if var held = pending {
            pending = nil
            held.writeBuffer(&buffer)
            buffer = held
        }
        process(&buffer, context: context)
    }

    /// Answers every complete request in `buffer` while the client reads its answers; keeps the rest.
    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        while !closing, buffer.readableBytes > 0 {
            guard context.channel.isWritable else {
                // Answers are piling up unread: stop reading until they drain (channelWritabilityChanged).
                setReading(false, context: context)
                break
            }
            let scannedBefore = scanned
            let consumed: Int? = buffer.withUnsafeReadableBytes { bytes in
                switch WKDRequestHead.parse(bytes, scanned: scannedBefore) {
                case .incomplete:
                    return nil
                case .request(let head, let length):
                    respond(to: head, in: bytes, context: context)
                    return length
                case .refused(let refusal):
                    WKDMetrics.refused.increment()
                    refuse(refusal, context: context)
                    return bytes.count
                }
            }
            guard let consumed else {
                scanned = buffer.readableBytes
                break
            }
            scanned = 0
            buffer.moveReaderIndex(forwardBy: consumed)
        }
        // Only the unread bytes are kept (a fresh, small buffer), never what was answered before them.
        if !closing, buffer.readableBytes > 0 {
            var rest = context.channel.allocator.buffer(capacity: buffer.readableBytes)
            rest.writeBuffer(&buffer)
            pending = rest
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, !closing {
            if var held = pending {
                pending = nil
                process(&held, context: context)
                context.flush()
            }
            if context.channel.isWritable { setReading(true, context: context) }
        }
        context.fireChannelWritabilityChanged()
    }

    private func setReading(_ on: Bool, context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
        if on { context.read() }
    }

    /// Ends the connection once the last answer is written: the sending side first, so that bytes the
    /// client still sends (read and ignored until it closes, or the idle timeout) never make the kernel
    /// reset the connection before the client has read the answer.
    static func close(afterWriting write: EventLoopFuture<Void>, _ channel: any Channel) {
        write.whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An I/O or TLS error: nothing more can be said on this connection.
        closing = true
        pending = nil
        context.close(promise: nil)
    }

    /// The refusal, then the sending side shut: the client reads the answer, and whatever it still sends is
    /// ignored until it closes (or the idle timeout does), so that no reset destroys the answer unread.
    private func refuse(_ refusal: WKDRequestHead.Refusal, context: ChannelHandlerContext) {
        closing = true
        pending = nil
        var buffer = context.channel.allocator.buffer(capacity: 128)
        buffer.writeString("HTTP/1.1 \(refusal.statusLine)\r\nContent-Length: 0\r\nDate: ")
        HTTPDate.write(into: &buffer)
        buffer.writeStaticString("\r\nConnection: close\r\n\r\n")
        Self.close(afterWriting: context.writeAndFlush(wrapOutboundOut(buffer)), context.channel)
    }

    func respond(to head: WKDRequestHead, in bytes: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        if !head.keepAlive { closing = true }
        isHTTP10 = head.isHTTP10
        let path = UnsafeRawBufferPointer(rebasing: bytes[head.path])
        let isHead = head.method == .head
        if let health, WKDRequestHead.equals(bytes, head.path, "/healthz") || WKDRequestHead.equals(bytes, head.path, "/metrics") {
            let metrics = WKDRequestHead.equals(bytes, head.path, "/metrics")
            let (status, type, text) = metrics ? ("200 OK", MetricsExposition.contentType, MetricsExposition.render())
                : health.isHealthy && content.isLoaded ? ("200 OK", "text/plain", "ok\n") : ("503 Service Unavailable", "text/plain", "unavailable\n")
            write(ByteBuffer(string: "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nCache-Control: no-store\r\nContent-Length: \(text.utf8.count)\r\n"),
                  body: isHead ? nil : ByteBuffer(string: text), context: context)
            return
        }
        let request = head.host.flatMap { WKDRequest(host: UnsafeRawBufferPointer(rebasing: bytes[$0]), path: path) }
        let answer = WKDAnswer.decide(method: head.method, request: request, ifNoneMatch: {
            head.ifNoneMatch.map { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
        }, content: content)
        switch answer {
        case .key(let entry):
            WKDMetrics.key.increment()
            write(entry.responseHead, body: isHead ? nil : entry.bodyBuffer, context: context)
        case .notModified(let entry):
            WKDMetrics.notModified.increment()
            write(ByteBuffer(string: "HTTP/1.1 304 Not Modified\r\n" + WKDEntry.fields(etag: entry.etag)), body: nil, context: context)
        case .policy:
            WKDMetrics.policy.increment()
            write(Self.policyHead, body: nil, context: context)
        case .notFound:
            WKDMetrics.notFound.increment()
            write(Self.notFoundHead, body: isHead ? nil : Self.notFoundBody, context: context)
        case .methodNotAllowed:
            WKDMetrics.methodNotAllowed.increment()
            write(Self.methodNotAllowedHead, body: nil, context: context)
        case .unavailable:
            write(Self.unavailableHead, body: nil, context: context)
        }
    }

    /// The head (status line and fields without `Date`) with `Date`, `Connection: close` on the last
    /// answer of the connection, and the blank line, in one buffer; then the body. Flushed in
    /// `channelReadComplete`; the last answer is flushed at once and closes the connection once written.
    func write(_ head: ByteBuffer, body: ByteBuffer?, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: head.readableBytes + 64)
        buffer.writeImmutableBuffer(head)
        buffer.writeStaticString("Date: ")
        HTTPDate.write(into: &buffer)
        if closing {
            buffer.writeStaticString("\r\nConnection: close\r\n\r\n")
        } else if isHTTP10 {
            buffer.writeStaticString("\r\nConnection: keep-alive\r\n\r\n")
        } else {
            buffer.writeStaticString("\r\n\r\n")
        }
        guard closing else {
            context.write(wrapOutboundOut(buffer), promise: nil)
            if let body { context.write(wrapOutboundOut(body), promise: nil) }
            return
        }
        if body != nil { context.write(wrapOutboundOut(buffer), promise: nil) }
        Self.close(afterWriting: context.writeAndFlush(wrapOutboundOut(body ?? buffer)), context.channel)
    }

    static let policyHead = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: *\r\nCache-Control: public, max-age=3600\r\nContent-Length: 0\r\n")
    static let notFoundBody = ByteBuffer(string: "not found\n")
    // Kept short: a key bound a minute ago should not stay hidden behind a cached 404.
    static let notFoundHead = ByteBuffer(string: "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: *\r\nCache-Control: public, max-age=60\r\nContent-Length: 10\r\n")
    static let methodNotAllowedHead = ByteBuffer(string: "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 0\r\n")
    // Before the content is loaded every answer would be a 404 that caches and proxies keep: say "later".
    static let unavailableHead = ByteBuffer(string: "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nCache-Control: no-store\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 0\r\n")
}

/// The last health check's result.
final class HealthState: Sendable {
    private let ok = Atomic<Bool>(false)
    func set(_ value: Bool) { ok.store(value, ordering: .releasing) }
    var isHealthy: Bool { ok.load(ordering: .acquiring) }
}

/// The `Date` header (IMF-fixdate), formatted once a second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: ByteBuffer)>((0, ByteBuffer()))

    static func write(into buffer: inout ByteBuffer) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let second = Int(time.tv_sec)
        var text = cache.withLock { $0.second == second ? $0.text : nil }
        if text == nil {
            let formatted = ByteBuffer(string: format(second))
            cache.withLock { $0 = (second, formatted) }
            text = formatted
        }
        buffer.writeImmutableBuffer(text!)
    }

    static func format(_ second: Int) -> String {
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}

/// Requests the publisher answered, by what it answered.
enum WKDMetrics {
    static let key = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "key")])
    static let policy = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "policy")])
    static let notModified = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "not_modified")])
    static let notFound = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "not_found")])
    static let methodNotAllowed = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "method_not_allowed")])
    static let refused = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "refused")])
}
