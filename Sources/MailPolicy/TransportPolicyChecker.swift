import Core
import Foundation

/// Looks a destination up on the network and turns what it finds into the next state, following RFC 8461
/// §5's caching rules for MTA-STS and DNS TTLs for DANE. The caller (the look-up path for a domain seen
/// for the first time, else a `mta-sts.refresh` or `dane.refresh` job) stores what it returns.
public struct TransportPolicyChecker: Sendable {
    public let sts: MTASTSLookup
    public let dane: DANELookup
    public let timing: Timing

    public struct Timing: Sendable {
        /// How often the `_mta-sts` TXT record is looked at while a domain is in use.
        public var recordCheckInterval: Duration
        /// A policy is fetched again after this long even if its `id` has not changed (or after half its
        /// `max_age`, if sooner): proactive refresh, so a policy in use never expires.
        public var policyRefetchInterval: Duration
        /// How soon a failed check is tried again.
        public var retryInterval: Duration
        /// Bounds on how long a DANE result is used before it is looked up again (its TTL, clamped).
        public var daneMinimumLifetime: Duration
        public var daneMaximumLifetime: Duration
        /// How long a DANE result (`dane` or `dane-only`) is kept through failing refreshes.
        public var daneFailureGrace: Duration

        public init(recordCheckInterval: Duration = .seconds(3600), policyRefetchInterval: Duration = .seconds(86_400),
                    retryInterval: Duration = .seconds(300), daneMinimumLifetime: Duration = .seconds(60),
                    daneMaximumLifetime: Duration = .seconds(3600), daneFailureGrace: Duration = .seconds(3600)) {
            self.recordCheckInterval = recordCheckInterval
            self.policyRefetchInterval = policyRefetchInterval
            self.retryInterval = retryInterval
            self.daneMinimumLifetime = daneMinimumLifetime
            self.daneMaximumLifetime = daneMaximumLifetime
            self.daneFailureGrace = daneFailureGrace
        }
    }

    public init(sts: MTASTSLookup, dane: DANELookup, timing: Timing) {
        self.sts = sts
        self.dane = dane
        self.timing = timing
    }

    /// Both halves, side by side (a first look-up waits for the slower one only).
    public func check(_ domain: DomainName, previous: TransportPolicyEntry?, at time: Date) async -> TransportPolicyEntry {
        async let stsState = checkSTS(domain, previous: previous?.sts, at: time)
        async let daneState = checkDANE(domain, previous: previous?.dane, at: time)
        return TransportPolicyEntry(domain: domain.ascii, sts: await stsState, dane: await daneState)
    }

    /// RFC 8461 §5: look at the TXT record; fetch the policy when there is none cached, when the `id`
    /// changed, or when the cached one is due for its proactive refresh. A failure keeps the cached
    /// policy until it expires; a record that disappeared does too (the domain opts out with mode none).
    public func checkSTS(_ domain: DomainName, previous: MTASTSState?, at time: Date) async -> MTASTSState {
        var state = previous ?? MTASTSState(lastCheck: .none, checkedAt: time, nextCheckAt: time)
        state.checkedAt = time
        state.detail = nil
        let retry = time.addingTimeInterval(timing.retryInterval.inSeconds)
        switch await sts.discover(domain) {
        case .failed(let reason):
            state.lastCheck = .dnsFailed
            state.detail = reason
            state.nextCheckAt = retry
        case .none:
            state.lastCheck = .none
            state.nextCheckAt = time.addingTimeInterval(timing.recordCheckInterval.inSeconds)
        case .unusable(let reason):
            state.lastCheck = .unusable
            state.detail = reason
            state.nextCheckAt = time.addingTimeInterval(timing.recordCheckInterval.inSeconds)
        case .record(let record):
            if state.policy(at: time) != nil, state.policyID == record.id, let fetched = state.fetchedAt,
               time < refetchTime(fetchedAt: fetched, maxAge: state.policy!.maxAge) {
                state.lastCheck = .policy
                state.nextCheckAt = nextCheck(for: state, at: time)
                break
            }
            do {
                let policy = try await sts.fetch(domain)
                state.policy = policy
                state.policyID = record.id
                state.fetchedAt = time
                // A max_age of 0 (or a few seconds) would expire before the answer is given: the policy
                // the domain just served counts for at least `minimumPolicyLifetime`.
                state.expiresAt = time.addingTimeInterval(max(TimeInterval(policy.maxAge), Self.minimumPolicyLifetime))
                state.lastCheck = .policy
                state.nextCheckAt = nextCheck(for: state, at: time)
            } catch {
                state.lastCheck = .fetchFailed
                state.detail = error.description
                state.nextCheckAt = retry
            }
        }
        return state
    }

    /// The least time a fetched policy is used, whatever its `max_age`.
    public static let minimumPolicyLifetime: TimeInterval = 60

    func refetchTime(fetchedAt: Date, maxAge: Int) -> Date {
        fetchedAt.addingTimeInterval(min(timing.policyRefetchInterval.inSeconds, max(TimeInterval(maxAge), Self.minimumPolicyLifetime) / 2))
    }

    func nextCheck(for state: MTASTSState, at time: Date) -> Date {
        var next = time.addingTimeInterval(timing.recordCheckInterval.inSeconds)
        if state.policy(at: time) != nil, let fetched = state.fetchedAt, let policy = state.policy {
            next = min(next, max(refetchTime(fetchedAt: fetched, maxAge: policy.maxAge), time.addingTimeInterval(1)))
        }
        return next
    }

    /// The DANE half. A failure replaces the previous result (TEMP), except that a `dane` or `dane-only`
    /// result is kept for `daneFailureGrace` past the end of its lifetime: Postfix validates the TLSA
    /// records itself, so keeping the stronger requirement can defer mail but never weakens it.
    public func checkDANE(_ domain: DomainName, previous: DANEState?, at time: Date) async -> DANEState {
        let result = await dane.check(domain)
        if result.status == .failed {
            let retry = time.addingTimeInterval(timing.retryInterval.inSeconds)
            if var kept = previous, kept.result.status == .dane || kept.result.status == .daneOnly {
                // From when the result was found: its longest lifetime, then the grace.
                let keptUntil = kept.checkedAt.addingTimeInterval(timing.daneMaximumLifetime.inSeconds + timing.daneFailureGrace.inSeconds)
                if time < keptUntil {
                    kept.lastError = result.reason
                    kept.validUntil = min(retry, keptUntil)
                    kept.nextCheckAt = kept.validUntil
                    return kept
                }
            }
            return DANEState(result: result, checkedAt: time, validUntil: retry, nextCheckAt: retry, lastError: result.reason)
        }
        let lifetime = min(max(TimeInterval(result.ttl), timing.daneMinimumLifetime.inSeconds), timing.daneMaximumLifetime.inSeconds)
        let valid = time.addingTimeInterval(lifetime)
        return DANEState(result: result, checkedAt: time, validUntil: valid, nextCheckAt: valid)
    }
}
