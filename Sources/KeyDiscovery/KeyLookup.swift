import Core
import DNS
import Foundation
import HTTPFetch
import Logging
import Metrics
import OpenPGP

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

    public init(pool: PostgresPool, fetcher: HTTPFetcher, resolver: DNSResolver, configuration: KeyDiscoveryConfiguration,
                logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.configuration = configuration
        wkd = WKDClient(fetcher: fetcher, resolver: resolver, configuration: configuration)
        vks = VKSClient(fetcher: fetcher, configuration: configuration)
        self.logger = logger
        self.now = now
    }

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
        let answer = await ask(address, at: time)
        try await pool.withConnection { try await store(answer, on: $0) }
        KeyLookupMetrics.answered(answer)
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
                    let detail = refused.isEmpty ? nil : refused.joined(separator: "; ")
                    return (attempt(keys.isEmpty ? .notFound : .found, detail), keys)
                } catch {
                    return (attempt(.failed, "the VKS served something that is not an OpenPGP key: \(error.message)"), [])
                }
            }
        } catch {
            return (attempt(.failed, "\(error)", retryAfter: error.retryAfter), [])
        }
    }

    /// Until when an answer is served from the cache: its lifetime, cut short by the first key's expiry;
    /// for a failure, at least until the latest Retry-After.
    func expiry(_ outcome: LookupAnswer.Outcome, keys: [DiscoveredKey], attempts: [SourceAttempt], from time: Date) -> Date {
        switch outcome {
        case .found:
            let lifetime = time.addingTimeInterval(Self.seconds(configuration.foundLifetime))
            return ([lifetime] + keys.compactMap(\.expiresAt)).min()!
        case .notFound:
            return time.addingTimeInterval(Self.seconds(configuration.notFoundLifetime))
        case .failed:
            let lifetime = time.addingTimeInterval(Self.seconds(configuration.failureLifetime))
            return max(lifetime, attempts.compactMap(\.retryAfter).max() ?? lifetime)
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}

/// Why a look-up could not even start.
public enum KeyLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(String)

    public var description: String {
        switch self {
        case .invalidAddress(let message): message
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
