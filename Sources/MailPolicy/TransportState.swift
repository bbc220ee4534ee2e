import Foundation

/// What is known of one destination domain's MTA-STS (RFC 8461 §5): the last good policy, kept until it
/// expires whatever later checks find, and what the last check found.
public struct MTASTSState: Codable, Sendable, Equatable {
    public enum Check: String, Codable, Sendable {
        /// A record was found and the policy is current (fetched now or still fresh for the same `id`).
        case policy
        /// No `v=STSv1` TXT record.
        case none
        /// Several STS records or a malformed one: no policy available.
        case unusable
        /// The TXT look-up failed (SERVFAIL, bogus, timeout).
        case dnsFailed = "dns-failed"
        /// A record was found but the policy could not be fetched or parsed.
        case fetchFailed = "fetch-failed"
    }

    /// The last good policy, with the record `id` it was fetched under.
    public var policy: MTASTSPolicy?
    public var policyID: String?
    public var fetchedAt: Date?
    /// `fetchedAt` plus the policy's `max_age`.
    public var expiresAt: Date?
    public var lastCheck: Check
    /// The last check's error, or why the record is unusable.
    public var detail: String?
    public var checkedAt: Date
    /// When the TXT record is to be looked at again (in the background).
    public var nextCheckAt: Date

    public init(policy: MTASTSPolicy? = nil, policyID: String? = nil, fetchedAt: Date? = nil, expiresAt: Date? = nil,
                lastCheck: Check, detail: String? = nil, checkedAt: Date, nextCheckAt: Date) {
        self.policy = policy
        self.policyID = policyID
        self.fetchedAt = fetchedAt
        self.expiresAt = expiresAt
        self.lastCheck = lastCheck
        self.detail = detail
        self.checkedAt = checkedAt
        self.nextCheckAt = nextCheckAt
    }

    /// The cached policy, if it has not expired at `time`.
    public func policy(at time: Date) -> MTASTSPolicy? {
        guard let policy, let expiresAt, expiresAt > time else { return nil }
        return policy
    }
}

/// What is known of one destination domain's DANE: the last result and when to look again.
public struct DANEState: Codable, Sendable, Equatable {
    public var result: DANEResult
    /// When `result` was found.
    public var checkedAt: Date
    /// `checkedAt` plus the answers' TTL (bounded): after this the result is stale and refreshed.
    public var validUntil: Date
    /// When to look again (in the background): `validUntil`, or sooner after a failure.
    public var nextCheckAt: Date
    /// The last refresh's failure, when a DANE result was kept through it.
    public var lastError: String?

    public init(result: DANEResult, checkedAt: Date, validUntil: Date, nextCheckAt: Date, lastError: String? = nil) {
        self.result = result
        self.checkedAt = checkedAt
        self.validUntil = validUntil
        self.nextCheckAt = nextCheckAt
        self.lastError = lastError
    }
}

/// Everything the daemon keeps about one destination domain: stored in PostgreSQL (`transport_policies`)
/// for every instance, and in each instance's memory.
public struct TransportPolicyEntry: Codable, Sendable, Equatable {
    public var domain: String
    public var sts: MTASTSState
    public var dane: DANEState

    public init(domain: String, sts: MTASTSState, dane: DANEState) {
        self.domain = domain
        self.sts = sts
        self.dane = dane
    }

    /// Whether a background refresh of either half is due at `time`.
    public func isDue(at time: Date) -> (sts: Bool, dane: Bool) {
        (sts.nextCheckAt <= time, dane.nextCheckAt <= time)
    }

    /// Whether the entry is too old to answer from: a half past its refresh time by more than
    /// `staleLimit` (a domain nobody looked up for a while, or refreshes that did not land), or a policy
    /// that expired while the record was still there. Such an entry is checked again on the look-up path,
    /// as a new domain is, rather than answered TEMP.
    public func isStale(at time: Date, staleLimit: TimeInterval) -> Bool {
        if time >= dane.validUntil.addingTimeInterval(staleLimit) || time >= sts.nextCheckAt.addingTimeInterval(staleLimit) { return true }
        if sts.lastCheck == .policy, let expiry = sts.expiresAt, expiry <= time { return true }
        return false
    }
}
