import Core
import Foundation
import Logging
import OpenPGP

/// The look-up cache (`key_lookups`) and the answers from our own tables.
extension KeyLookup {
    struct Known {
        var isOwnDomain: Bool
        var answer: LookupAnswer?
    }

    /// In one round trip: whether the address's domain is one we serve, and the cached answer.
    func cached(_ address: EmailAddress, on connection: PostgresConnection) async throws -> Known {
        let row = try await connection.query("""
            SELECT EXISTS (SELECT 1 FROM domains WHERE name = \(address.domain.ascii)) AS own,
                   l.outcome, l.source, l.keys::text AS keys, l.certificates, l.attempts::text AS attempts, l.looked_up_at, l.expires_at
            FROM (SELECT 1) AS one LEFT JOIN key_lookups l ON l.address = \(address.canonical)
            """).first!
        let own: Bool = try row.decode("own")
        guard !own, let outcome = try row.decodeIfPresent("outcome", as: String.self) else { return Known(isOwnDomain: own, answer: nil) }
        do {
            return Known(isOwnDomain: false, answer: try answer(from: row, address: address, outcome: outcome))
        } catch {
            // A row this version cannot read is a miss: the new answer replaces it.
            logger.warning("unreadable cached key look-up", metadata: ["domain": "\(address.domain.ascii)", "error": "\(error)"])
            return Known(isOwnDomain: false, answer: nil)
        }
    }

    func answer(from row: PostgresRow, address: EmailAddress, outcome: String) throws -> LookupAnswer {
        let summaries = try JSONDecoder.discovery.decode([KeySummary].self, from: Data(try row.decode("keys", as: String.self).utf8))
        let keys = try Self.keys(in: try row.decodeIfPresent("certificates", as: [UInt8].self) ?? [], summaries)
        let attempts = try JSONDecoder.discovery.decode([SourceAttempt].self, from: Data(try row.decode("attempts", as: String.self).utf8))
        let answer = LookupAnswer(
            email: address.canonical, outcome: LookupAnswer.Outcome(rawValue: outcome) ?? .failed,
            source: try row.decodeIfPresent("source", as: String.self).flatMap(DiscoverySource.init(rawValue:)),
            keys: keys, attempts: attempts, lookedUpAt: try row.decode("looked_up_at"), expiresAt: try row.decode("expires_at"), cached: true)
        return answer
    }

    /// Replaces the cached answer for the address, unless another instance stored a newer one meanwhile.
    func store(_ answer: LookupAnswer, on connection: PostgresConnection) async throws {
        let certificates: [UInt8]? = answer.keys.isEmpty ? nil : answer.keys.flatMap(\.certificate)
        let attempts = String(decoding: try JSONEncoder.discovery.encode(answer.attempts), as: UTF8.self)
        let summaries = String(decoding: try JSONEncoder.discovery.encode(answer.keys.map {
            KeySummary(fingerprint: $0.fingerprint.hex, expiresAt: $0.expiresAt)
        }), as: UTF8.self)
        try await connection.query("""
            INSERT INTO key_lookups (address, outcome, source, keys, certificates, attempts, looked_up_at, expires_at)
            VALUES (\(answer.email), \(answer.outcome.rawValue), \(answer.source?.rawValue), \(summaries)::jsonb,
                    \(certificates), \(attempts)::jsonb, \(answer.lookedUpAt), \(answer.expiresAt ?? answer.lookedUpAt))
            ON CONFLICT (address) DO UPDATE SET
                outcome = EXCLUDED.outcome, source = EXCLUDED.source, keys = EXCLUDED.keys,
                certificates = EXCLUDED.certificates, attempts = EXCLUDED.attempts, looked_up_at = EXCLUDED.looked_up_at,
                expires_at = EXCLUDED.expires_at
            WHERE key_lookups.looked_up_at <= EXCLUDED.looked_up_at
            """)
    }

    /// Forgets the cached answer for `email` (`platformctl keys lookup --forget`); whether there was one.
    public func forget(_ email: String) async throws -> Bool {
        let address: EmailAddress
        do { address = try EmailAddress(email) } catch { throw KeyLookupError.invalidAddress("\(error)") }
        return try await pool.query("DELETE FROM key_lookups WHERE address = \(address.canonical) RETURNING 1 AS gone").count > 0
    }

    /// Removes answers that expired more than `age` ago; how many.
    public func prune(olderThan age: Duration = .seconds(86_400)) async throws -> Int {
        let cutoff = now().addingTimeInterval(-Self.seconds(age))
        return try await pool.query("DELETE FROM key_lookups WHERE expires_at < \(cutoff) RETURNING 1 AS gone").count
    }

    /// An address on a domain we serve: the key its account bound to it, if the address is in use and
    /// the key is valid for it now (what our WKD publishes).
    func local(_ address: EmailAddress, at time: Date) async throws -> LookupAnswer {
        let rows = try await pool.query("""
            SELECT k.certificate FROM addresses a
            JOIN accounts c ON c.id = a.account_id AND c.state = 'active'
            JOIN key_addresses b ON b.address_id = a.id
            JOIN keys k ON k.fingerprint = b.fingerprint
            WHERE a.address = \(address.canonical) AND a.enabled
            """)
        var keys: [DiscoveredKey] = []
        var detail: String? = rows.isEmpty ? "no key is bound to this address" : nil
        for row in rows {
            let (found, refused) = try DiscoveredKeys.sort(try row.decode("certificate"), for: address, at: time)
            keys += found
            if let summary = DiscoveredKeys.summary(refused) { detail = summary }
        }
        let attempt = SourceAttempt(source: .local, result: keys.isEmpty ? .notFound : .found, detail: detail)
        return LookupAnswer(email: address.canonical, outcome: keys.isEmpty ? .notFound : .found, source: keys.isEmpty ? nil : .local,
                            keys: keys, attempts: [attempt], lookedUpAt: time, expiresAt: nil, cached: false)
    }

    /// A found key's entry in `key_lookups.keys`.
    struct KeySummary: Codable {
        var fingerprint: String
        var expiresAt: Date?
    }

    /// The stored keyring cut back into its certificates (each begins with a public-key packet), with
    /// their summaries.
    static func keys(in keyring: [UInt8], _ summaries: [KeySummary]) throws -> [DiscoveredKey] {
        guard !keyring.isEmpty else { return [] }
        var groups: [[UInt8]] = []
        for packet in try PacketReader.packets(keyring, limits: OpenPGPLimits(maximumInputSize: 8 << 20)) {
            if packet.tag == .publicKey || groups.isEmpty { groups.append([]) }
            groups[groups.count - 1] += packet.serialized
        }
        guard groups.count == summaries.count else {
            throw OpenPGPError(.malformed, "the cached answer has \(groups.count) certificates for \(summaries.count) keys")
        }
        return try zip(groups, summaries).map { certificate, summary in
            guard let fingerprint = try? Fingerprint(summary.fingerprint) else {
                throw OpenPGPError(.malformed, "the cached fingerprint \(summary.fingerprint) is malformed")
            }
            return DiscoveredKey(fingerprint: fingerprint, certificate: certificate, expiresAt: summary.expiresAt)
        }
    }
}

extension JSONEncoder {
    /// Dates as ISO 8601, as every Palisade API writes them.
    static var discovery: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    static var discovery: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
