import Foundation
import Logging
import Metrics
import NIOSSL
import Synchronization

/// The HTTPS listener's certificates, for WKD as a service: customers point `openpgpkey.<their domain>`
/// at us and each handshake gets the certificate for the name the client asked (SNI). They are read
/// from a directory in certbot's layout, `live/<name>/fullchain.pem` and `live/<name>/privkey.pem`, and
/// served for every DNS name of the certificate's subjectAltName (`*.example.org` for one label under
/// it). When two certificates name the same host, the one that expires last is used (certbot's
/// `<name>-0001` renewals).
///
/// `reload()` reads the directory again without a restart: a certificate whose files are unchanged is
/// kept as it is; one that no longer loads (a half-written file, a key that does not match) keeps its
/// last good version and is reported; one whose directory is gone is dropped.
public final class WKDCertificates: Sendable {
    /// One `live/<name>/`, loaded.
    struct Loaded {
        var files: [UInt8]
        var context: NIOSSLContext
        var names: [String]
        var notValidAfter: Date
    }

    struct State {
        var byDirectory: [String: Loaded] = [:]
        var exact: [String: NIOSSLContext] = [:]
        /// "example.org" for `*.example.org`.
        var wildcard: [String: NIOSSLContext] = [:]
    }

    /// What a reload found.
    public struct Report: Sendable, Equatable {
        /// `live/<name>` directories serving, with the names each serves.
        public var serving: [String: [String]]
        /// `live/<name>` directories that did not load this time, with the reason.
        public var failed: [String: String]

        public init(serving: [String: [String]], failed: [String: String]) {
            self.serving = serving
            self.failed = failed
        }
    }

    public let directory: String
    let logger: Logger
    private let state = Mutex(State())

    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// The context for a handshake that asked for `serverName` (nil without SNI: none, the handshake is
    /// refused, since no certificate is right for every customer).
    func context(serverName: String?) -> NIOSSLContext? {
        guard var name = serverName?.lowercased() else { return nil }
        if name.hasSuffix(".") { name.removeLast() }
        return state.withLock { state in
            if let context = state.exact[name] { return context }
            guard let dot = name.firstIndex(of: ".") else { return nil }
            return state.wildcard[String(name[name.index(after: dot)...])]
        }
    }

    /// Reads `live/` again (see the type's comment); logs what changed and what failed.
    @discardableResult
    public func reload() -> Report {
        let live = URL(fileURLWithPath: directory).appendingPathComponent("live")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: live.path)) ?? []).sorted()
        var failed: [String: String] = [:]
        var previous = state.withLock { $0.byDirectory }
        var next: [String: Loaded] = [:]
        for name in names {
            let folder = live.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            do {
                let chain = try Self.read(folder.appendingPathComponent("fullchain.pem"))
                let key = try Self.read(folder.appendingPathComponent("privkey.pem"))
                let files = chain + [0] + key
                if let old = previous[name], old.files == files {
                    next[name] = old
                    continue
                }
                let loaded = try Self.load(chain: chain, key: key, files: files)
                next[name] = loaded
                logger.info("https certificate loaded", metadata: [
                    "tls.certificate": "\(name)", "tls.names": "\(loaded.names.joined(separator: " "))",
                    "tls.not_after": "\(loaded.notValidAfter)",
                ])
                if loaded.notValidAfter < Date() {
                    logger.warning("https certificate has expired", metadata: ["tls.certificate": "\(name)", "tls.not_after": "\(loaded.notValidAfter)"])
                }
            } catch {
                failed[name] = "\(error)"
                if let old = previous[name] { next[name] = old }
                logger.error("https certificate not loaded\(previous[name] == nil ? "" : "; its previous version stays")", metadata: [
                    "tls.certificate": "\(folder.path)", "error": "\(error)",
                ])
            }
            previous[name] = nil
        }
        for gone in previous.keys.sorted() {
            logger.info("https certificate removed", metadata: ["tls.certificate": "\(gone)"])
        }
        var fresh = State()
        fresh.byDirectory = next
        // The certificate that expires last wins a name several serve.
        for (_, loaded) in next.sorted(by: { ($0.value.notValidAfter, $0.key) < ($1.value.notValidAfter, $1.key) }) {
            for name in loaded.names {
                if name.hasPrefix("*.") { fresh.wildcard[String(name.dropFirst(2))] = loaded.context } else { fresh.exact[name] = loaded.context }
            }
        }
        state.withLock { $0 = fresh }
        WKDCertificateMetrics.loaded.record(next.count)
        WKDCertificateMetrics.failed.record(failed.count)
        if let soonest = next.values.map(\.notValidAfter).min() {
            WKDCertificateMetrics.earliestExpiry.record(soonest.timeIntervalSince1970)
        }
        return Report(serving: next.mapValues(\.names), failed: failed)
    }

    /// PEM files are small; anything over 1 MiB is not one.
    static let maximumFileSize = 1 << 20

    static func read(_ file: URL) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        guard data.count <= maximumFileSize else { throw CertificateError("\(file.lastPathComponent) is larger than \(maximumFileSize) bytes") }
        return Array(data)
    }

    static func load(chain: [UInt8], key: [UInt8], files: [UInt8]) throws -> Loaded {
        let certificates: [NIOSSLCertificate]
        do { certificates = try NIOSSLCertificate.fromPEMBytes(chain) } catch { throw CertificateError("fullchain.pem: not PEM certificates (\(error))") }
        guard let leaf = certificates.first else { throw CertificateError("fullchain.pem holds no certificate") }
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(bytes: key, format: .pem) } catch { throw CertificateError("privkey.pem: not a PEM private key (\(error))") }
        var names: [String] = []
        for alternative in leaf._subjectAlternativeNames() where alternative.nameType == .dnsName {
            let name = alternative.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }.lowercased()
            if !names.contains(name) { names.append(name) }
        }
        guard !names.isEmpty else { throw CertificateError("the certificate names no DNS host (subjectAltName)") }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        let context: NIOSSLContext
        // BoringSSL refuses a key that is not the leaf certificate's here.
        do { context = try NIOSSLContext(configuration: configuration) } catch {
            throw CertificateError("privkey.pem and fullchain.pem do not make a TLS identity (is it the certificate's key?): \(error)")
        }
        return Loaded(files: files, context: context, names: names, notValidAfter: Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter)))
    }

    struct CertificateError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// The HTTPS certificates in use.
enum WKDCertificateMetrics {
    static let loaded = Gauge(label: "palisade_wkd_tls_certificates")
    static let failed = Gauge(label: "palisade_wkd_tls_certificates_failed")
    /// Unix time at which the first of them expires.
    static let earliestExpiry = Gauge(label: "palisade_wkd_tls_certificate_earliest_expiry_seconds")
    static let unknownServerName = Counter(label: "palisade_wkd_tls_unknown_server_name_total")
}
