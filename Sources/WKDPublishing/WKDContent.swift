import Core
import Foundation
import Synchronization

/// Everything the publisher serves, in memory: the domains it answers for and each published entry by
/// domain and hash. Requests read it without touching PostgreSQL or parsing OpenPGP; `WKDContentSync`
/// reloads what a NOTIFY names, and everything when the LISTEN connection (re)starts.
public final class WKDContent: Sendable {
    struct Snapshot {
        var domains: Set<String> = []
        /// domain → hash → entry (each entry under its hash and, if any, its Unicode hash).
        var byHash: [String: [String: WKDEntry]] = [:]
        var byAddress: [String: WKDEntry] = [:]

        mutating func remove(_ address: String) {
            guard let old = byAddress.removeValue(forKey: address) else { return }
            for hash in old.hashes where byHash[old.domain]?[hash]?.address == address {
                byHash[old.domain]?[hash] = nil
            }
        }

        mutating func add(_ entry: WKDEntry) {
            remove(entry.address)
            byAddress[entry.address] = entry
            for hash in entry.hashes { byHash[entry.domain, default: [:]][hash] = entry }
        }
    }

    private let snapshot = Mutex(Snapshot())
    private let loaded = Atomic<Bool>(false)

    public init() {}

    /// Whether everything has been loaded once: until then the service is not healthy (it would answer 404
    /// for keys it has).
    public var isLoaded: Bool { loaded.load(ordering: .acquiring) }

    /// Whether `domain` (A-label, lower case) is one we publish for, entries or not.
    public func serves(_ domain: String) -> Bool {
        snapshot.withLock { $0.domains.contains(domain) }
    }

    public func entry(domain: String, hash: String) -> WKDEntry? {
        snapshot.withLock { $0.byHash[domain]?[hash] }
    }

    /// Both at once, under one lock (the request path asks both).
    func lookup(domain: String, hash: String?) -> (served: Bool, entry: WKDEntry?) {
        snapshot.withLock { snapshot in
            guard snapshot.domains.contains(domain) else { return (false, nil) }
            return (true, hash.flatMap { snapshot.byHash[domain]?[$0] })
        }
    }

    /// Every domain and entry, for the static export.
    public var all: (domains: Set<String>, entries: [WKDEntry]) {
        snapshot.withLock { ($0.domains, Array($0.byAddress.values)) }
    }

    public var count: Int { snapshot.withLock { $0.byAddress.count } }

    /// Loads the domains and every entry afresh.
    public func reloadAll(from pool: PostgresPool) async throws {
        let domains = try await Self.servedDomains(pool)
        var fresh = Snapshot()
        fresh.domains = domains
        for row in try await pool.query("SELECT address, domain, hash, unicode_hash, fingerprint, body, etag FROM wkd_entries") {
            fresh.add(try Self.entry(row))
        }
        snapshot.withLock { $0 = fresh }
        loaded.store(true, ordering: .releasing)
    }

    /// Reloads the set of served domains.
    public func reloadDomains(from pool: PostgresPool) async throws {
        let domains = try await Self.servedDomains(pool)
        snapshot.withLock { $0.domains = domains }
    }

    /// Reloads one address's entry (gone if its row is gone).
    public func reload(address: String, from pool: PostgresPool) async throws {
        let entry = try await pool.query("""
            SELECT address, domain, hash, unicode_hash, fingerprint, body, etag FROM wkd_entries WHERE address = \(address)
            """).first.map(Self.entry)
        snapshot.withLock { snapshot in
            if let entry { snapshot.add(entry) } else { snapshot.remove(address) }
        }
    }

    static func servedDomains(_ pool: PostgresPool) async throws -> Set<String> {
        Set(try await pool.query("""
            SELECT name FROM domains d
            WHERE d.kind = 'platform' OR EXISTS (SELECT 1 FROM wkd_service_domains s WHERE s.domain_id = d.id)
            """).map { try $0.decode("name", as: String.self) })
    }

    static func entry(_ row: PostgresRow) throws -> WKDEntry {
        WKDEntry(address: try row.decode("address"), domain: try row.decode("domain"), hash: try row.decode("hash"),
                 unicodeHash: try row.decodeIfPresent("unicode_hash"), fingerprint: try row.decode("fingerprint"),
                 body: try row.decode("body"), etag: try row.decode("etag"))
    }
}
