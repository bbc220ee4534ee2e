import Foundation
import Logging
import Metrics
import NIOSSL
import Synchronization

/// An HTTPS listener's certificates, chosen per handshake by the name the client asked (SNI): for WKD as a
/// service (customers point `openpgpkey.<their domain>` at us) and for our own MTA-STS policy hosts
/// (`mta-sts.<our domain>`). They are read
/// from a directory in certbot's layout, `live/<name>/fullchain.pem` and `live/<name>/privkey.pem`, and
/// served for every DNS name of the certificate's subjectAltName (`*.example.org` for one label under
/// it). When two certificates name the same host, the one that expires last is used (certbot's
/// `<name>-0001` renewals).
///
/// `reload()` reads the directory again without a restart: a certificate whose files are unchanged is
/// kept as it is; one that no longer loads (a half-written file, a key that does not match) keeps its
/// last good version and is reported; one whose directory is gone is dropped.
public final class CertificateDirectory: Sendable {
    /// One `live/<name>/`, loaded.
    struct Loaded {
        /// A hash of both files, to see whether they changed (the key's bytes are not kept). Hasher is
        /// seeded per process, which is all a comparison within one process needs.
        var digest: Int
        var context: NIOSSLContext
        /// The identity, for listeners that choose it per handshake (`identity(serverName:)`).
        var certificates: [NIOSSLCertificate]
        var privateKey: NIOSSLPrivateKey
        var names: [String]
        var notValidAfter: Date
    }

    struct State {
        var byDirectory: [String: Loaded] = [:]
        var exact: [String: Loaded] = [:]
        /// "example.org" for `*.example.org`.
        var wildcard: [String: Loaded] = [:]
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
    /// Held for a whole reload, so that two never interleave.
    private let reloading = Mutex(())

    let metrics: CertificateMetrics

    /// `metricsPrefix` names the service's gauges, e.g. `palisade_wkd` → `palisade_wkd_tls_certificates`.
    public init(directory: String, metricsPrefix: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
        metrics = CertificateMetrics(prefix: metricsPrefix)
    }

    /// The context for a handshake that asked for `serverName` (nil without SNI: none, the handshake is
    /// refused, since no certificate is right for every customer). A certificate for the exact name wins
    /// over a wildcard unless it has expired and the wildcard has not.
    public func context(serverName: String?, now: Date = Date()) -> NIOSSLContext? {
        loaded(serverName: serverName, now: now)?.context
    }

    /// The certificate chain and key for `serverName`, as a handshake override (NIOSSL's
    /// `sslContextCallback`); nil when none is right for it.
    public func identity(serverName: String?, now: Date = Date()) -> NIOSSLContextConfigurationOverride? {
        guard let loaded = loaded(serverName: serverName, now: now) else { return nil }
        var identity = NIOSSLContextConfigurationOverride()
        identity.certificateChain = loaded.certificates.map { .certificate($0) }
        identity.privateKey = .privateKey(loaded.privateKey)
        return identity
    }

    /// Any loaded certificate (the one that expires last), to start a listener whose handshakes then
    /// choose theirs by SNI.
    public var anyIdentity: (certificates: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey)? {
        state.withLock { $0.byDirectory.values.max { $0.notValidAfter < $1.notValidAfter } }.map { ($0.certificates, $0.privateKey) }
    }

    func loaded(serverName: String?, now: Date) -> Loaded? {
        guard var name = serverName?.lowercased() else { return nil }
        if name.hasSuffix(".") { name.removeLast() }
        let (exact, wildcard) = state.withLock { state in
            (state.exact[name], name.firstIndex(of: ".").flatMap { state.wildcard[String(name[name.index(after: $0)...])] })
        }
        if let exact, let wildcard, exact.notValidAfter < now, wildcard.notValidAfter >= now { return wildcard }
        return exact ?? wildcard
    }

    /// Reads `live/` again (see the type's comment); logs what changed and what failed.
    @discardableResult
    public func reload() -> Report {
        reloading.withLock { _ in reloadLocked() }
    }

    private func reloadLocked() -> Report {
        let live = URL(fileURLWithPath: directory).appendingPathComponent("live")
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: live.path).sorted()
        } catch {
            // An unreadable directory (permissions, a mount not there yet) says nothing about the certificates: keep them.
            logger.error("https certificates directory unreadable; the loaded certificates stay", metadata: [
                "tls.directory": "\(live.path)", "error": "\(error)",
            ])
            let serving = state.withLock { $0.byDirectory.mapValues(\.names) }
            metrics.failed.record(1)
            return Report(serving: serving, failed: ["live": "\(live.path) cannot be read: \(error)"])
        }
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
                var hasher = Hasher()
                hasher.combine(chain)
                hasher.combine(key)
                let digest = hasher.finalize()
                if let old = previous[name], old.digest == digest {
                    next[name] = old
                    previous[name] = nil
                    continue
                }
                let loaded = try Self.load(chain: chain, key: key, digest: digest)
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
                if name.hasPrefix("*.") { fresh.wildcard[String(name.dropFirst(2))] = loaded } else { fresh.exact[name] = loaded }
            }
        }
        state.withLock { $0 = fresh }
        metrics.loaded.record(next.count)
        metrics.failed.record(failed.count)
        // 0 (long past) when nothing is loaded, so that an expiry alert fires.
        metrics.earliestExpiry.record(next.values.map(\.notValidAfter).min()?.timeIntervalSince1970 ?? 0)
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

    static func load(chain: [UInt8], key: [UInt8], digest: Int) throws -> Loaded {
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
        return Loaded(digest: digest, context: context, certificates: certificates, privateKey: privateKey, names: names,
                      notValidAfter: Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter)))
    }

    struct CertificateError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// The HTTPS certificates in use, under the service's prefix.
struct CertificateMetrics: Sendable {
    let loaded: Gauge
    let failed: Gauge
    /// Unix time at which the first of them expires.
    let earliestExpiry: Gauge

    init(prefix: String) {
        loaded = Gauge(label: "\(prefix)_tls_certificates")
        failed = Gauge(label: "\(prefix)_tls_certificates_failed")
        earliestExpiry = Gauge(label: "\(prefix)_tls_certificate_earliest_expiry_seconds")
    }
}
