import Core
import DNS
import Foundation
import HTTPFetch
import Logging
import Metrics
import OpenPGP
import Synchronization

/// Finds the key to encrypt to for an address: the keystore's `GET /v1/lookup` and `platformctl keys
/// lookup`.
///
/// Addresses on the domains we serve are answered from our own tables (the key the account bound to
/// the address, as our WKD publishes it); nobody else is asked about them. Any other address: a fresh
/// answer from the PostgreSQL cache, shared by every instance; else **WKD first** (see `WKDClient`) and
/// the search stops at the first key found there; only then the **VKS** by e-mail. Only certificates
/// that are valid with a current User ID for exactly the asked address count, and only that User ID is
/// kept. A source that fails is recorded as failed, and an answer without a key where a source failed
/// is `failed`, never `not_found`.
public struct KeyLookup: Sendable {
    public let configuration: KeyDiscoveryConfiguration
    let pool: PostgresPool
    let wkd: WKDClient
    let vks: VKSClient
    let logger: Logger
    /// The clock answers are dated and keys validated by; tests set it.
    let now: @Sendable () -> Date
    /// Look-ups under way in this process, by address: a second asker waits for the first's answer.
    let flights = SingleFlight<LookupAnswer>()

    public init(pool: PostgresPool, fetcher: HTTPFetcher, resolver: DNSResolver, configuration: KeyDiscoveryConfiguration,
                logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.configuration = configuration
        wkd = WKDClient(fetcher: fetcher, resolver: resolver, configuration: configuration)
        vks = VKSClient(fetcher: fetcher, configuration: configuration, now: now)
        self.logger = logger
        self.now = now
    }

    /// The time by this look-up's clock (for `Retry-After` headers relative to it).
    public var currentTime: Date { now() }

    /// The answer for `email`; `refresh` asks the sources even when the cache has a fresh answer.
    public func lookup(_ email: String, refresh: Bool = false) async throws -> LookupAnswer {
        let address: EmailAddress
        do {
            address = try EmailAddress(email)
        } catch {
            throw KeyLookupError.invalidAddress("\(error)")
        }
        let time = now()
        let known = try await pool.withConnection { try await cached(address, on: $0) }
        if known.isOwnDomain {
            let answer = try await local(address, at: time)
            KeyLookupMetrics.answered(answer)
            return answer
        }
        if !refresh, let answer = known.answer, let expiry = answer.expiresAt, expiry > time {
            KeyLookupMetrics.answered(answer)
            return answer
        }
        let answer = try await flights.join(address.canonical) {
            // Another look-up of this process may have stored an answer since the cache was read.
            if !refresh, let stored = try await self.pool.withConnection({ try await self.cached(address, on: $0) }).answer,
               let expiry = stored.expiresAt, expiry > self.now() {
                return stored
            }
            return try await self.askAndStore(address)
        }
        KeyLookupMetrics.answered(answer)
        return answer
    }

    /// Asks the sources and keeps the answer. An answer that cannot be stored is still given, and the
    /// failure logged. The look-up runs in a task of its own (see `SingleFlight`): an asker that gives up
    /// does not cancel it, and what it found is kept.
    func askAndStore(_ address: EmailAddress) async throws -> LookupAnswer {
        let answer = await ask(address, at: now())
        do {
            try await pool.withConnection { try await store(answer, on: $0) }
        } catch {
            logger.error("storing a key look-up failed", metadata: ["domain": "\(address.domain.ascii)", "error": "\(error)"])
        }
        logger.info("key look-up", metadata: [
            "domain": "\(address.domain.ascii)", "outcome": "\(answer.outcome.rawValue)",
            "source": "\(answer.source?.rawValue ?? "-")",
            "attempts": "\(answer.attempts.map { "\($0.source.rawValue)\($0.method.map { "/\($0)" } ?? ""):\($0.result.rawValue)" }.joined(separator: ","))",
        ])
        return answer
    }

    /// Asks the sources in order: WKD, then (only when WKD found nothing) the VKS.
    func ask(_ address: EmailAddress, at time: Date) async -> LookupAnswer {
        var attempts: [SourceAttempt] = []
        func answer(_ outcome: LookupAnswer.Outcome, _ source: DiscoverySource?, _ keys: [DiscoveredKey]) -> LookupAnswer {
            LookupAnswer(email: address.canonical, outcome: outcome, source: source, keys: keys, attempts: attempts, lookedUpAt: time,
                         expiresAt: expiry(outcome, keys: keys, attempts: attempts, from: time), cached: false)
        }
        if configuration.wkdEnabled {
            let (attempt, keys) = await wkd.lookup(address, at: time)
            attempts.append(attempt)
            KeyLookupMetrics.attempt(attempt)
            if !keys.isEmpty { return answer(.found, .wkd, keys) }
        }
        let (attempt, keys) = await askVKS(address, at: time)
        attempts.append(attempt)
        KeyLookupMetrics.attempt(attempt)
        if !keys.isEmpty { return answer(.found, .vks, keys) }
        return answer(attempts.contains { $0.result == .failed } ? .failed : .notFound, nil, [])
    }

    func askVKS(_ address: EmailAddress, at time: Date) async -> (SourceAttempt, [DiscoveredKey]) {
        let url = vks.url("by-email/\(VKSClient.pathEscaped(address.description))").absoluteString
        func attempt(_ result: SourceAttempt.Result, _ detail: String?, retryAfter: Date? = nil) -> SourceAttempt {
            SourceAttempt(source: .vks, method: "by-email", url: url, result: result, detail: detail, retryAfter: retryAfter)
        }
        do {
            switch try await vks.byEmail(address) {
            case .notFound:
                return (attempt(.notFound, "HTTP 404"), [])
            case .found(let data):
                do {
                    let (keys, refused) = try DiscoveredKeys.sort(data, for: address, at: time)
                    return (attempt(keys.isEmpty ? .notFound : .found, DiscoveredKeys.summary(refused)), keys)
                } catch {
                    return (attempt(.failed, "the VKS served something that is not an OpenPGP key: \(error.message)"), [])
                }
            }
        } catch {
            return (attempt(.failed, "\(error)", retryAfter: error.retryAfter), [])
        }
    }

    /// Until when an answer is served from the cache: its lifetime, cut short by the first key's expiry,
    /// and only the failure lifetime when a source asked before the one that answered failed (its key,
    /// the domain's own in WKD's case, may be the better one); for a failure, at least until the latest
    /// Retry-After.
    func expiry(_ outcome: LookupAnswer.Outcome, keys: [DiscoveredKey], attempts: [SourceAttempt], from time: Date) -> Date {
        switch outcome {
        case .found:
            let lifetime = attempts.contains { $0.result == .failed } ? configuration.failureLifetime : configuration.foundLifetime
            return ([time.addingTimeInterval(Self.seconds(lifetime))] + keys.compactMap(\.expiresAt)).min()!
        case .notFound:
            return time.addingTimeInterval(Self.seconds(configuration.notFoundLifetime))
        case .failed:
            let lifetime = time.addingTimeInterval(Self.seconds(configuration.failureLifetime))
            return max(lifetime, attempts.compactMap(\.retryAfter).max() ?? lifetime)
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval { duration.inSeconds }
}

/// Why a look-up could not start, or found no key to import.
public enum KeyLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(String)
    case invalidFingerprint(String)
    /// Every source answered, and the key is not among what they gave.
    case keyNotFound(String)
    /// The key is not there and a source failed: ask again after `retryAfter` (or a while).
    case lookupFailed(String, retryAfter: Date?)

    public var description: String {
        switch self {
        case .invalidAddress(let message), .invalidFingerprint(let message), .keyNotFound(let message), .lookupFailed(let message, _): message
        }
    }
}

/// Prometheus series of look-ups: answers by outcome, source and whether cached; each source's results.
enum KeyLookupMetrics {
    static func answered(_ answer: LookupAnswer) {
        Counter(label: "palisade_key_lookups_total", dimensions: [
            ("outcome", answer.outcome.rawValue), ("source", answer.source?.rawValue ?? "none"), ("cached", answer.cached ? "true" : "false"),
        ]).increment()
    }

    static func attempt(_ attempt: SourceAttempt) {
        Counter(label: "palisade_key_lookup_source_results_total", dimensions: [
            ("source", attempt.source.rawValue), ("result", attempt.result.rawValue),
        ]).increment()
    }
}
