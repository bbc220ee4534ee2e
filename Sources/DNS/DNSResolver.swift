import Core
import Dispatch
import Foundation
import Logging
import Metrics
import Synchronization

/// Palisade's one answer to "what does DNS say, and can we trust it?": DNSSEC-validating look-ups over
/// libunbound, each answer carrying its DNSSEC state, rcode, TTL and whether it came from cache.
///
/// Look-ups are asynchronous and never block a Swift cooperative thread (see `UnboundContext`). Each
/// has a deadline (`dns.timeout`); a timed-out or cancelled look-up is cancelled in unbound too.
/// Create one resolver per process and share it: it owns unbound's caches and its resolver thread.
public final class DNSResolver: Sendable {
    public let configuration: DNSResolverConfiguration
    private let context: UnboundContext
    private let cache: DNSAnswerCache
    private let logger: Logger
    private let pending = Mutex<Pending>(Pending())
    /// Calls into unbound happen here: `ub_resolve_async` writes to a pipe and can block when unbound
    /// falls behind, which must never happen on a cooperative thread.
    private let submissions = DispatchQueue(label: "palisade.dns.submit")

    private struct Pending: ~Copyable {
        var next: UInt64 = 0
        var lookups: [UInt64: Lookup] = [:]
    }

    private struct Lookup {
        let continuation: CheckedContinuation<UnboundResult, any Error>
        var queryID: Int32?
        var timer: Task<Void, Never>?
    }

    /// Starts unbound with `configuration`; a trust anchor, forwarder or stub it cannot use is a
    /// `DNSConfigurationError` naming the setting, so a misconfigured service stops at start-up.
    public init(configuration: DNSResolverConfiguration, logger: Logger) throws {
        guard !configuration.trustAnchorFiles.isEmpty else {
            throw DNSConfigurationError("dns.trustAnchorFiles is empty: Palisade always validates DNSSEC and needs at least one trust anchor")
        }
        for file in configuration.trustAnchorFiles {
            try Self.checkTrustAnchorFile(file)
        }
        var options: [(String, String)] = [
            ("msg-cache-size:", "\(max(1, configuration.cacheMegabytes / 2))m"),
            ("rrset-cache-size:", "\(max(1, configuration.cacheMegabytes - configuration.cacheMegabytes / 2))m"),
            // The reason a bogus answer failed is only collected at level 2; it goes to the operator.
            ("val-log-level:", "2"),
            ("use-syslog:", "no"),
        ]
        let servers = configuration.forwarders + configuration.stubZones.map(\.address)
        if servers.contains(where: { Self.isLoopback($0) }) {
            // Unbound refuses to query loopback servers unless told to; a configured one is meant.
            options.append(("do-not-query-localhost:", "no"))
        }
        var stubs: [(zone: String, addresses: [String])] = []
        for stub in configuration.stubZones {
            if let index = stubs.firstIndex(where: { $0.zone == stub.zone.absolute }) {
                stubs[index].addresses.append(stub.address)
            } else {
                stubs.append((stub.zone.absolute, [stub.address]))
            }
        }
        context = try UnboundContext(trustAnchorFiles: configuration.trustAnchorFiles, forwarders: configuration.forwarders,
                                     stubZones: stubs, options: options)
        self.configuration = configuration
        cache = DNSAnswerCache(capacity: configuration.answerCacheEntries)
        self.logger = logger
    }

    /// Reads `dns.*` from the configuration and starts the resolver.
    public convenience init(_ config: PalisadeConfiguration, logger: Logger) throws {
        try self.init(configuration: DNSResolverConfiguration(config), logger: logger)
    }

    deinit { close() }

    /// Stops unbound; look-ups still waiting fail with `DNSError.closed`.
    public func close() {
        context.close()
        let waiting = pending.withLock { pending in
            defer { pending.lookups.removeAll() }
            return Array(pending.lookups.values)
        }
        for lookup in waiting {
            lookup.timer?.cancel()
            lookup.continuation.resume(throwing: DNSError.closed)
        }
    }

    // MARK: - Look-ups

    /// Looks up `name` for records of `Record`'s type.
    ///
    /// Throws `DNSError.timedOut` past `dns.timeout`, `DNSError.resolver` if unbound refuses the query,
    /// `CancellationError` if the task is cancelled. Every answer unbound gives, including SERVFAIL and
    /// bogus ones, is returned as a `DNSAnswer` whose `outcome` says what it means.
    public func lookup<Record: DNSRecord>(_ name: DNSName, _ type: Record.Type = Record.self) async throws -> DNSAnswer<Record> {
        let key = DNSAnswerCache.Key(name: name, type: Record.type.rawValue)
        if let (result, ttl) = cache.lookup(key) {
            let answer: DNSAnswer<Record> = Self.answer(name, from: result, ttl: ttl, fromCache: true)
            DNSMetrics.record(type: Record.type, result: Self.metricResult(answer), cached: true, duration: nil)
            return answer
        }
        let started = ContinuousClock.now
        let result: UnboundResult
        do {
            result = try await query(name, type: Record.type)
        } catch let error as DNSError {
            let label = switch error {
            case .timedOut: "timeout"
            case .closed: "closed"
            case .resolver, .failed: "error"
            }
            DNSMetrics.record(type: Record.type, result: label, cached: false, duration: ContinuousClock.now - started)
            logger.info("DNS look-up failed", metadata: ["dns.name": "\(name)", "dns.type": "\(Record.type)", "error": "\(error)"])
            throw error
        }
        cache.store(result, for: key)
        let answer: DNSAnswer<Record> = Self.answer(name, from: result, ttl: result.ttl, fromCache: false)
        DNSMetrics.record(type: Record.type, result: Self.metricResult(answer), cached: false, duration: ContinuousClock.now - started)
        if case .bogus(let reason) = answer.security {
            logger.notice("DNSSEC validation failed", metadata: ["dns.name": "\(name)", "dns.type": "\(Record.type)", "dns.reason": "\(reason)"])
        }
        return answer
    }

    public func txt(_ name: DNSName) async throws -> DNSAnswer<TXTRecord> { try await lookup(name) }
    public func mx(_ name: DNSName) async throws -> DNSAnswer<MXRecord> { try await lookup(name) }
    public func tlsa(_ name: DNSName) async throws -> DNSAnswer<TLSARecord> { try await lookup(name) }
    public func caa(_ name: DNSName) async throws -> DNSAnswer<CAARecord> { try await lookup(name) }
    public func cname(_ name: DNSName) async throws -> DNSAnswer<CNAMERecord> { try await lookup(name) }
    public func ptr(_ name: DNSName) async throws -> DNSAnswer<PTRRecord> { try await lookup(name) }

    /// A and AAAA look-ups of one host, made side by side.
    public func addresses(of name: DNSName) async throws -> DNSAddresses {
        async let v4: DNSAnswer<ARecord> = lookup(name)
        async let v6: DNSAnswer<AAAARecord> = lookup(name)
        return try await DNSAddresses(v4: v4, v6: v6)
    }

    // MARK: - Unbound

    private func query(_ name: DNSName, type: DNSRecordType) async throws -> UnboundResult {
        let serial = pending.withLock { pending -> UInt64 in
            pending.next += 1
            return pending.next
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UnboundResult, any Error>) in
                let completion = UnboundContext.Completion { [weak self] result in self?.finish(serial, with: result) }
                pending.withLock { $0.lookups[serial] = Lookup(continuation: continuation) }
                submissions.async { [weak self, context] in
                    // Abandoned (timed out, cancelled) before it was sent: do not send it.
                    guard let self, self.pending.withLock({ $0.lookups[serial] != nil }) else { return }
                    do throws(DNSError) {
                        let id = try context.resolve(name: name.absolute, type: type.rawValue, completion: completion)
                        self.pending.withLock { $0.lookups[serial]?.queryID = id }
                    } catch {
                        self.finish(serial, with: .failure(error))
                    }
                }
                let timeout = configuration.timeout
                let timer = Task { [weak self] in
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    self?.abandon(serial, because: DNSError.timedOut(name: name, type: type, after: timeout))
                }
                let stillWaiting = pending.withLock { pending -> Bool in
                    pending.lookups[serial]?.timer = timer
                    return pending.lookups[serial] != nil
                }
                if !stillWaiting { timer.cancel() }
                if Task.isCancelled { abandon(serial, because: CancellationError()) }
            }
        } onCancel: {
            abandon(serial, because: CancellationError())
        }
    }

    private func finish(_ serial: UInt64, with result: Result<UnboundResult, DNSError>) {
        guard let lookup = pending.withLock({ $0.lookups.removeValue(forKey: serial) }) else { return }
        lookup.timer?.cancel()
        lookup.continuation.resume(with: result.mapError { $0 as any Error })
    }

    /// Gives up on a look-up (deadline or cancellation) and cancels it in unbound.
    private func abandon(_ serial: UInt64, because error: any Error) {
        guard let lookup = pending.withLock({ $0.lookups.removeValue(forKey: serial) }) else { return }
        lookup.timer?.cancel()
        if let id = lookup.queryID {
            submissions.async { [context] in _ = context.cancel(id) }
        }
        lookup.continuation.resume(throwing: error)
    }

    // MARK: - Answers

    static func answer<Record: DNSRecord>(_ name: DNSName, from result: UnboundResult, ttl: UInt32, fromCache: Bool) -> DNSAnswer<Record> {
        var security: DNSSecurity = result.bogus ? .bogus(reason: result.whyBogus ?? "validation failed") : result.secure ? .secure : .insecure
        var rcode = DNSResponseCode(result.rcode)
        var chain: [DNSName] = []
        let outcome: DNSOutcome<Record>
        if case .bogus(let reason) = security {
            // A validating resolver answers SERVFAIL for bogus data (RFC 4035 §5.5); libunbound hands
            // over the message's own rcode, so say what a validating server would.
            rcode = .serverFailure
            outcome = .failed(reason: "DNSSEC validation failed: \(reason)")
        } else if result.answerPacket.isEmpty {
            outcome = .failed(reason: rcode == .noError ? "no response message" : "\(rcode)")
        } else {
            do {
                let message = try DNSMessage(bytes: result.answerPacket)
                rcode = DNSResponseCode(Int(message.rcode))
                var current = name
                // Follow the CNAME chain within the answer section; a loop ends it.
                while let alias = message.answers.first(where: { $0.type == CNAMERecord.type.rawValue && $0.owner == current }),
                      Record.type != .cname, chain.count < 16 {
                    let target = try CNAMERecord(rdata: alias.rdata, in: message).target
                    guard !chain.contains(target), target != name else { break }
                    chain.append(target)
                    current = target
                }
                switch rcode {
                case .noError:
                    let records = try message.answers
                        .filter { $0.type == Record.type.rawValue && $0.owner == current }
                        .map { try Record(rdata: $0.rdata, in: message) }
                    outcome = records.isEmpty ? .noRecords : .records(records)
                case .nameError:
                    outcome = .noSuchName
                default:
                    outcome = .failed(reason: "the server answered \(rcode)")
                }
            } catch {
                outcome = .failed(reason: "\(error)")
            }
        }
        // Without an answer there was nothing to validate: say so rather than "insecure", which a DANE
        // caller would read as "no DNSSEC here" (RFC 4033 §5's indeterminate).
        if case .failed = outcome, security == .insecure { security = .indeterminate }
        return DNSAnswer(name: name, outcome: outcome, rcode: rcode, security: security, ttl: ttl, fromCache: fromCache, cnameChain: chain)
    }

    private static func metricResult<Record>(_ answer: DNSAnswer<Record>) -> String {
        switch (answer.security, answer.outcome) {
        case (.bogus, _): "bogus"
        case (.indeterminate, _): "failed"
        case (_, .failed): "failed"
        case (_, .noSuchName): "nxdomain"
        case (_, .noRecords): "nodata"
        case (.secure, .records): "secure"
        case (.insecure, .records): "insecure"
        }
    }

    private static func checkTrustAnchorFile(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DNSConfigurationError("dns.trustAnchorFiles: cannot read \(path)" + (path.hasPrefix("/usr/share/dns") ? " (apt-get install dns-root-data)" : ""))
        }
        guard data.count <= 1 << 20 else { throw DNSConfigurationError("dns.trustAnchorFiles: \(path) is larger than 1 MiB") }
        let text = String(decoding: data, as: UTF8.self)
        let anchors = text.split(whereSeparator: \.isNewline).filter { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.uppercased() }
            return !line.hasPrefix(";") && (fields.contains("DS") || fields.contains("DNSKEY"))
        }
        guard !anchors.isEmpty else {
            throw DNSConfigurationError("dns.trustAnchorFiles: \(path) holds no DS or DNSKEY record")
        }
    }

    /// Whether a server given as `address[@port]` (IPv6 possibly in brackets) is a loopback address.
    private static func isLoopback(_ server: String) -> Bool {
        var host = server.split(separator: "@").first.map(String.init) ?? server
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return IPAddress(host)?.isLoopback ?? false
    }
}

/// The A and AAAA answers for one host.
public struct DNSAddresses: Sendable {
    public let v4: DNSAnswer<ARecord>
    public let v6: DNSAnswer<AAAARecord>

    /// Every address found, IPv6 first (RFC 6724's default preference).
    public var all: [IPAddress] {
        ((try? v6.records()) ?? []).map(\.address) + ((try? v4.records()) ?? []).map(\.address)
    }

    /// Secure only if every answer that has records is secure, and at least one has.
    public var security: DNSSecurity {
        for answer in [v4.security, v6.security] { if case .bogus = answer { return answer } }
        let withRecords = [(v4.security, (try? v4.records())?.isEmpty == false), (v6.security, (try? v6.records())?.isEmpty == false)].filter(\.1)
        return !withRecords.isEmpty && withRecords.allSatisfy { $0.0 == .secure } ? .secure : .insecure
    }

    /// The reason there is no address to use, if there is none. A bogus answer for either family
    /// fails the whole look-up: someone is tampering with the name, whatever the other family says.
    public var failure: String? {
        if case .bogus = v4.security, case .failed(let reason) = v4.outcome { return reason }
        if case .bogus = v6.security, case .failed(let reason) = v6.outcome { return reason }
        if case .failed(let reason) = v4.outcome, case .failed = v6.outcome { return reason }
        if all.isEmpty {
            if case .failed(let reason) = v4.outcome { return reason }
            if case .failed(let reason) = v6.outcome { return reason }
            return v4.outcome == .noSuchName ? "no such name" : "no A or AAAA records"
        }
        return nil
    }
}
