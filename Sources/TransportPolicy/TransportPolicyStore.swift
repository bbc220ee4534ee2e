import Core
import Foundation
import MailPolicy

/// `transport_policies`: the cache every instance shares. Each half (MTA-STS, DANE) is one JSON column.
public struct TransportPolicyStore: Sendable {
    public static let channel = "palisade_transport"
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func load(_ domain: String) async throws -> TransportPolicyEntry? {
        let rows = try await pool.query("SELECT domain, sts::text AS sts, dane::text AS dane FROM transport_policies WHERE domain = \(domain)")
        guard let row = rows.first else { return nil }
        return TransportPolicyEntry(domain: try row.decode("domain"),
                                    sts: try Self.decoder.decode(MTASTSState.self, from: Data(try row.decode("sts", as: String.self).utf8)),
                                    dane: try Self.decoder.decode(DANEState.self, from: Data(try row.decode("dane", as: String.self).utf8)))
    }

    /// Writes a whole entry (a domain seen for the first time).
    public func save(_ entry: TransportPolicyEntry) async throws {
        let sts = try Self.json(entry.sts)
        let dane = try Self.json(entry.dane)
        let next = min(entry.sts.nextCheckAt, entry.dane.nextCheckAt)
        try await pool.query("""
            INSERT INTO transport_policies (domain, sts, dane, next_check_at, used_at, updated_at)
            VALUES (\(entry.domain), \(sts)::jsonb, \(dane)::jsonb, \(next), now(), now())
            ON CONFLICT (domain) DO UPDATE SET sts = EXCLUDED.sts, dane = EXCLUDED.dane, next_check_at = EXCLUDED.next_check_at,
                used_at = now(), updated_at = now()
            """)
    }

    /// Writes the MTA-STS half; false if the domain is no longer cached.
    @discardableResult
    public func save(sts state: MTASTSState, for domain: String) async throws -> Bool {
        try await update(domain, sts: try Self.json(state), dane: nil)
    }

    /// Writes the DANE half; false if the domain is no longer cached.
    @discardableResult
    public func save(dane state: DANEState, for domain: String) async throws -> Bool {
        try await update(domain, sts: nil, dane: try Self.json(state))
    }

    /// Replaces the halves given (a refresh job writes only its own, so the two never overwrite each
    /// other) and recomputes the row's earliest next check from the halves as they now are.
    private func update(_ domain: String, sts: String?, dane: String?) async throws -> Bool {
        // On the right of SET the row's old values: coalesce gives each half as it now is.
        try await !pool.query("""
            UPDATE transport_policies SET sts = coalesce(\(sts)::jsonb, sts), dane = coalesce(\(dane)::jsonb, dane), updated_at = now(),
                next_check_at = least((coalesce(\(sts)::jsonb, sts)->>'nextCheckAt')::timestamptz,
                                      (coalesce(\(dane)::jsonb, dane)->>'nextCheckAt')::timestamptz)
            WHERE domain = \(domain) RETURNING domain
            """).isEmpty
    }

    /// Marks domains as looked up now.
    public func markUsed(_ domains: [String]) async throws {
        guard !domains.isEmpty else { return }
        try await pool.query("UPDATE transport_policies SET used_at = now() WHERE domain = ANY(\(PostgresArray(domains))::text[])")
    }

    /// Forgets domains nobody looked up for `retention`, unless they still hold an MTA-STS policy that
    /// has not expired (RFC 8461 §5: it protects the next delivery there); returns how many.
    public func pruneUnused(olderThan retention: Duration) async throws -> Int {
        let rows = try await pool.query("""
            DELETE FROM transport_policies
            WHERE used_at < now() - make_interval(secs => \(retention.inSeconds))
              AND coalesce((sts->>'expiresAt')::timestamptz, '-infinity') < now()
            RETURNING domain
            """)
        return rows.count
    }

    /// The domains looked up within `window` with a half due for its refresh, and which halves: what the
    /// sweep queues, so that domains in use stay fresh between look-ups.
    public func due(usedWithin window: Duration, limit: Int) async throws -> [(domain: String, sts: Bool, dane: Bool)] {
        try await pool.query("""
            SELECT domain, (sts->>'nextCheckAt')::timestamptz <= now() AS sts_due, (dane->>'nextCheckAt')::timestamptz <= now() AS dane_due
            FROM transport_policies
            WHERE next_check_at <= now() AND used_at > now() - make_interval(secs => \(window.inSeconds))
            ORDER BY next_check_at LIMIT \(limit)
            """).map { (try $0.decode("domain"), try $0.decode("sts_due"), try $0.decode("dane_due")) }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
