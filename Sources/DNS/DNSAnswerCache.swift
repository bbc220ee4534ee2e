import Synchronization

/// The resolver's answer cache: whole answers kept for their TTL, so a repeated look-up is answered
/// without a trip to unbound, and so an answer can say truthfully whether it came from cache.
///
/// Only NOERROR and NXDOMAIN answers that are not bogus are kept; failures always go back to unbound
/// (which has its own short-lived memory of them). Bounded by `capacity` entries: when full, expired
/// entries are dropped first, then the oldest.
final class DNSAnswerCache: Sendable {
    struct Key: Hashable {
        let name: DNSName
        let type: UInt16
    }

    struct Entry {
        let result: UnboundResult
        let storedAt: ContinuousClock.Instant
        let expiresAt: ContinuousClock.Instant
    }

    let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])

    init(capacity: Int) { self.capacity = capacity }

    /// The cached result and the seconds of its TTL that are left.
    func lookup(_ key: Key, now: ContinuousClock.Instant = .now) -> (UnboundResult, ttl: UInt32)? {
        entries.withLock { entries -> (UnboundResult, ttl: UInt32)? in
            guard let entry = entries[key] else { return nil }
            guard entry.expiresAt > now else {
                entries.removeValue(forKey: key)
                return nil
            }
            let left = (entry.expiresAt - now).components.seconds
            return (entry.result, UInt32(clamping: left))
        }
    }

    func store(_ result: UnboundResult, for key: Key, now: ContinuousClock.Instant = .now) {
        guard capacity > 0, result.ttl > 0, !result.bogus, result.rcode == 0 || result.rcode == 3 else { return }
        let entry = Entry(result: result, storedAt: now, expiresAt: now + .seconds(Int64(result.ttl)))
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil {
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity {
                    let oldest = entries.sorted { $0.value.storedAt < $1.value.storedAt }.prefix(max(1, capacity / 10))
                    for (key, _) in oldest { entries.removeValue(forKey: key) }
                }
            }
            entries[key] = entry
        }
    }
}
