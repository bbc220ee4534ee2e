import Foundation
import MailPolicy
import Synchronization

/// Each instance's memory copy of the entries it has used, in front of `transport_policies`: what makes
/// a cached answer a dictionary look-up. `TransportCacheSync` replaces an entry when PostgreSQL announces
/// a change and empties the copy when the LISTEN connection (re)starts.
public final class TransportPolicyCache: Sendable {
    /// One domain's entry and what was worked out from it. A class, so that a look-up touches one
    /// reference rather than copying the entry; only ever used under the lock.
    final class Slot {
        let entry: TransportPolicyEntry
        /// When a background refresh of either half falls due.
        let dueAt: Date
        /// When this instance last asked for the entry's refresh (so a due entry is asked for once, not
        /// on every look-up); nil when it has not.
        var refreshRequestedAt: Date?
        /// Answers already decided for this entry, by profile, each good until its time
        /// (`TransportDecision.changesAt`): a cached look-up is a dictionary read, not a decision.
        var answers: [String: Decided] = [:]
        /// Looked up since `takeUsed()` last collected it (for `transport_policies.used_at`).
        var used: Bool

        init(entry: TransportPolicyEntry, used: Bool) {
            self.entry = entry
            dueAt = min(entry.sts.nextCheckAt, entry.dane.nextCheckAt)
            self.used = used
        }
    }

    /// What `answer` found.
    enum Found {
        /// A memoised answer, still good, for an entry that is not due: nothing else to do.
        case settled(TransportAnswer)
        /// The answer and its entry, which the caller looks at (due for a refresh, or stale).
        case unsettled(TransportAnswer, TransportPolicyEntry)
    }

    struct Decided {
        let answer: TransportAnswer
        let until: Date
    }

    // Slot is a class used only under this lock.
    private let slots = Mutex<[String: Slot]>([:])
    let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { slots.withLock { $0.count } }

    public func entry(_ domain: String) -> TransportPolicyEntry? {
        slots.withLock { $0[domain]?.entry }
    }

    public func store(_ entry: TransportPolicyEntry) {
        slots.withLock { slots in
            if slots[entry.domain] == nil, slots.count >= capacity {
                // Full: forget a tenth, arbitrarily (a forgotten domain is read back from PostgreSQL).
                for key in slots.keys.prefix(max(1, capacity / 10)) { slots[key] = nil }
            }
            slots[entry.domain] = Slot(entry: entry, used: true)
        }
    }

    /// Replaces an entry only if this instance holds it (a NOTIFY about a domain it never used is ignored).
    public func replace(_ entry: TransportPolicyEntry) {
        slots.withLock { slots in
            if let old = slots[entry.domain] { slots[entry.domain] = Slot(entry: entry, used: old.used) }
        }
    }

    public func contains(_ domain: String) -> Bool { slots.withLock { $0[domain] != nil } }

    public func remove(_ domain: String) { _ = slots.withLock { $0.removeValue(forKey: domain) } }

    public func removeAll() { slots.withLock { $0.removeAll() } }

    /// The answer for `domain` under `profile` at `time`: reused while the decision cannot change, else
    /// made by `decide` and kept. nil when the domain is not in memory. A memoised answer is never stale
    /// (its `until` comes before the entry's stale times), so only a due entry needs the caller's care.
    func answer(_ domain: String, profile: String, at time: Date, decide: (TransportPolicyEntry) -> (TransportAnswer, Date)) -> Found? {
        slots.withLock { slots in
            guard let slot = slots[domain] else { return nil }
            slot.used = true
            if let decided = slot.answers[profile], time < decided.until {
                return time < slot.dueAt ? .settled(decided.answer) : .unsettled(decided.answer, slot.entry)
            }
            let (answer, until) = decide(slot.entry)
            slot.answers[profile] = Decided(answer: answer, until: until)
            return .unsettled(answer, slot.entry)
        }
    }

    /// The domains looked up since the last call, which are marked unused again.
    func takeUsed() -> [String] {
        slots.withLock { slots in
            var used: [String] = []
            for (domain, slot) in slots where slot.used {
                used.append(domain)
                slot.used = false
            }
            return used
        }
    }

    /// True once per `interval` for a domain: whether the caller should ask for its refresh now.
    func claimRefresh(_ domain: String, at time: Date, interval: TimeInterval) -> Bool {
        slots.withLock { slots in
            guard let slot = slots[domain] else { return false }
            if let requested = slot.refreshRequestedAt, time.timeIntervalSince(requested) < interval { return false }
            slot.refreshRequestedAt = time
            return true
        }
    }
}
