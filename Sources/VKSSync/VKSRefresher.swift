import Core
import Foundation
import KeyDiscovery
import Keystore
import Logging
import Metrics

/// Refreshes one stored key from the validating key server: asks it by fingerprint, merges what its
/// copy adds (`AccountKeystore.mergeFetchedCopy`: revocations, newer expiry, new subkeys; nothing that
/// does not verify, no new identity, nothing dropped), and records the answer in `key_vks_checks` with
/// the next check's time. A 404 means "unknown to the VKS", never "revoked": the key stays as it was.
/// A failure (outage, timeout, 5xx, 429) changes nothing but the record of the attempt; the job runs
/// again later (at the server's `Retry-After` when it named one).
public struct VKSRefresher: Sendable {
    /// What one refresh found.
    public enum Outcome: Sendable, Equatable {
        /// The VKS served the key; the merge changed it (a new status, or the same status with new parts) or not.
        case found(changed: Bool, status: String, previousStatus: String)
        /// 404: unknown to the VKS.
        case unknown
        /// The key is no longer stored.
        case notStored
    }

    /// The schedule of the next checks.
    public struct Schedule: Sendable {
        public var interval: Duration
        public var recentInterval: Duration
        public var recentUse: Duration

        public init(interval: Duration, recentInterval: Duration, recentUse: Duration) {
            self.interval = interval
            self.recentInterval = recentInterval
            self.recentUse = recentUse
        }

        public init(_ configuration: PalisadeConfiguration) {
            self.init(interval: VKSSyncSettings.refreshInterval.read(configuration),
                      recentInterval: VKSSyncSettings.recentRefreshInterval.read(configuration),
                      recentUse: VKSSyncSettings.recentUse.read(configuration))
        }
    }

    let pool: PostgresPool
    let client: VKSClient
    let limiter: VKSRateLimiter
    let schedule: Schedule
    let logger: Logger
    let now: @Sendable () -> Date

    public init(pool: PostgresPool, client: VKSClient, limiter: VKSRateLimiter, schedule: Schedule, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.client = client
        self.limiter = limiter
        self.schedule = schedule
        self.logger = logger
        self.now = now
    }

    public func refresh(_ fingerprint: Fingerprint) async throws -> Outcome {
        try await limiter.acquire()
        let answer: VKSClient.Lookup
        do {
            answer = try await client.byFingerprint(fingerprint)
        } catch {
            VKSSyncMetrics.failed(error).increment()
            try await recordFailure(fingerprint, error)
            throw VKSRefreshFailure(fingerprint: fingerprint, error: error)
        }
        let time = UInt32(clamping: Int64(now().timeIntervalSince1970))
        let outcome: Outcome
        do {
            outcome = try await store(answer, of: fingerprint, at: time)
        } catch let refusal as KeystoreError {
            // The VKS's copy cannot be taken (not OpenPGP, another key, over the size limit once merged):
            // asking again will not change that before the next scheduled check.
            VKSSyncMetrics.errors.increment()
            try await recordFailure(fingerprint, refusal)
            throw JobFailure("vks refresh of \(fingerprint.hex): \(refusal)", permanent: true)
        }
        switch outcome {
        case .found(true, let status, let previous):
            VKSSyncMetrics.changed.increment()
            logger.info("vks refresh changed the key", metadata: ["key.fingerprint": "\(fingerprint.hex)", "key.status": "\(status)",
                                                                    "key.previous_status": "\(previous)"])
        case .found(false, _, _), .unknown, .notStored:
            logger.debug("vks refresh", metadata: ["key.fingerprint": "\(fingerprint.hex)", "vks.outcome": "\(outcome)"])
        }
        VKSSyncMetrics.refreshed.increment()
        return outcome
    }

    /// The answer merged and recorded, in one transaction.
    func store(_ answer: VKSClient.Lookup, of fingerprint: Fingerprint, at time: UInt32) async throws -> Outcome {
        try await pool.transaction { connection in
            let outcome: Outcome
            switch answer {
            case .notFound:
                let stored = try await connection.query("SELECT 1 AS one FROM keys WHERE fingerprint = \(fingerprint.hex)").first != nil
                if stored { try await AccountKeystore.indexSubkeys(of: fingerprint, at: time, on: connection) }
                outcome = stored ? .unknown : .notStored
            case .found(let data):
                switch try await AccountKeystore.mergeFetchedCopy(data, of: fingerprint, at: time, on: connection) {
                case .notStored: outcome = .notStored
                case .unchanged(let status): outcome = .found(changed: false, status: status, previousStatus: status)
                case .changed(let status, let previous): outcome = .found(changed: true, status: status, previousStatus: previous)
                }
            }
            if outcome != .notStored { try await recordAnswer(fingerprint, found: outcome != .unknown, on: connection) }
            return outcome
        }
    }

    /// The answer, and the next check: sooner for a key used recently, each spread by up to a quarter of
    /// its interval either way so that keys stored together do not fall due together.
    func recordAnswer(_ fingerprint: Fingerprint, found: Bool, on connection: PostgresConnection) async throws {
        let recent = try await connection.query("""
            SELECT last_used_at IS NOT NULL AND last_used_at > now() - \(schedule.recentUse.inSeconds) * interval '1 second' AS recent
            FROM keys WHERE fingerprint = \(fingerprint.hex)
            """).first.map { try $0.decode("recent", as: Bool.self) } ?? false
        let interval = (recent ? min(schedule.recentInterval, schedule.interval) : schedule.interval).inSeconds
        try await Self.recordAnswer(fingerprint, found: found, next: interval * Double.random(in: 0.75...1.25), on: connection)
    }

    /// Records what the VKS answered now; the next check `next` seconds from now (nil: as planned, or now
    /// for a key never recorded).
    static func recordAnswer(_ fingerprint: Fingerprint, found: Bool, next: Double?, on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO key_vks_checks (fingerprint, found, checked_at, attempted_at, last_error, next_check_at)
            VALUES (\(fingerprint.hex), \(found), now(), now(), NULL, now() + coalesce(\(next)::float8, 0) * interval '1 second')
            ON CONFLICT (fingerprint) DO UPDATE SET found = EXCLUDED.found, checked_at = EXCLUDED.checked_at,
                attempted_at = EXCLUDED.attempted_at, last_error = NULL,
                next_check_at = CASE WHEN \(next)::float8 IS NULL THEN key_vks_checks.next_check_at ELSE EXCLUDED.next_check_at END
            """)
    }

    /// A failed attempt: recorded, nothing else changes (the job is retried; the scheduler leaves the key
    /// alone until its next check).
    func recordFailure(_ fingerprint: Fingerprint, _ error: any Error) async throws {
        let message = String("\(error)".prefix(2000))
        try await pool.query("""
            INSERT INTO key_vks_checks (fingerprint, attempted_at, last_error, next_check_at)
            SELECT fingerprint, now(), \(message), now() + \(schedule.interval.inSeconds) * interval '1 second' FROM keys
            WHERE fingerprint = \(fingerprint.hex)
            ON CONFLICT (fingerprint) DO UPDATE SET attempted_at = now(), last_error = EXCLUDED.last_error,
                next_check_at = greatest(key_vks_checks.next_check_at, now() + \(schedule.interval.inSeconds) * interval '1 second')
            """)
    }
}

/// A refresh that got no usable answer from the VKS; the job is retried (at the server's `Retry-After`
/// when it named one).
public struct VKSRefreshFailure: Error, CustomStringConvertible {
    public let fingerprint: Fingerprint
    public let error: any Error

    public var retryAfter: Date? { (error as? VKSError)?.retryAfter }
    public var description: String { "vks refresh of \(fingerprint.hex): \(error)" }
}

/// Refreshes and their outcomes.
enum VKSSyncMetrics {
    static let refreshed = Counter(label: "palisade_vks_refreshes_total", dimensions: [("result", "answered")])
    static let changed = Counter(label: "palisade_vks_refreshes_changed_total")
    static let rateLimited = Counter(label: "palisade_vks_refreshes_total", dimensions: [("result", "rate_limited")])
    static let errors = Counter(label: "palisade_vks_refreshes_total", dimensions: [("result", "failed")])

    static func failed(_ error: any Error) -> Counter {
        if case .rateLimited? = error as? VKSError { return rateLimited }
        return errors
    }
}
