import Core
import Foundation
import OpenPGP

extension AccountKeystore {
    /// The keys `account` holds, newest import first.
    public func keys(of account: Int64) async throws -> [KeyRecord] {
        try await records(account: account, fingerprint: nil)
    }

    /// One key of `account`'s keystore.
    public func key(_ fingerprint: String, of account: Int64) async throws -> KeyRecord {
        guard let parsed = try? Fingerprint(fingerprint) else {
            throw KeystoreError(.keyNotFound, "\(fingerprint.prefix(80)) is not a fingerprint (40 or 64 hex digits)")
        }
        guard let record = try await records(account: account, fingerprint: parsed).first else {
            throw KeystoreError(.keyNotFound, "account \(account) holds no key \(parsed.hex)")
        }
        return record
    }

    func records(account: Int64, fingerprint: Fingerprint?) async throws -> [KeyRecord] {
        let time = openPGPNow
        return try await pool.withConnection { connection in
            guard try await !connection.query("SELECT 1 FROM accounts WHERE id = \(account)").isEmpty else {
                throw KeystoreError(.accountNotFound, "there is no account \(account)")
            }
            let rows = try await connection.query("""
                SELECT k.certificate, k.updated_at, m.source, m.imported_at, m.user_ids::text AS user_ids,
                       (SELECT string_agg(a.address, E'\\n' ORDER BY a.address) FROM key_addresses b JOIN addresses a ON a.id = b.address_id
                        WHERE b.fingerprint = k.fingerprint AND a.account_id = m.account_id) AS bound
                FROM account_keys m JOIN keys k ON k.fingerprint = m.fingerprint
                WHERE m.account_id = \(account) AND (\(fingerprint?.hex)::text IS NULL OR m.fingerprint = \(fingerprint?.hex))
                ORDER BY m.imported_at DESC, m.fingerprint
                """)
            return try rows.map { row in
                let key = try Self.stored(try row.decode("certificate")).validated(at: time)
                var record = KeyRecord(key, at: time, boundAddresses: (try row.decodeIfPresent("bound", as: String.self))?.split(separator: "\n").map(String.init) ?? [], source: try row.decode("source"),
                                       importedAt: try row.decode("imported_at"), updatedAt: try row.decode("updated_at"))
                // Only the User IDs this account imported (keys are shared; others' copies may hold more).
                if let seen = try row.decodeIfPresent("user_ids", as: String.self) {
                    let texts = Set(try JSONDecoder().decode([String].self, from: Data(seen.utf8)))
                    record.userIDs = record.userIDs.filter { texts.contains($0.text) }
                }
                return record
            }
        }
    }

    /// Removes a key from `account`'s keystore with the account's bindings to it (their WKD entries go).
    /// The certificate itself is forgotten once no account holds it.
    public func deleteKey(_ fingerprint: String, of account: Int64, by actor: String) async throws {
        let action = "key.delete"
        let details = ["account": String(account)]
        guard let parsed = try? Fingerprint(fingerprint) else {
            throw await refuse(KeystoreError(.keyNotFound, "\(fingerprint.prefix(80)) is not a fingerprint"), action, by: actor, subject: String(fingerprint.prefix(100)), details: details)
        }
        try await change(action, by: actor, subject: parsed.hex, details: details) { connection in
            try await requireActiveAccount(account, on: connection)
            // The stored row first, as an import locks it: an import of this key by another account in
            // flight is then either committed (and seen below) or waits for this deletion.
            try await connection.query("SELECT 1 FROM keys WHERE fingerprint = \(parsed.hex) FOR UPDATE")
            let removed = try await connection.query("DELETE FROM account_keys WHERE account_id = \(account) AND fingerprint = \(parsed.hex)")
            guard removed.affectedRows == 1 else { throw KeystoreError(.keyNotFound, "account \(account) holds no key \(parsed.hex)") }
            let unbound = try await connection.query("""
                DELETE FROM key_addresses b USING addresses a
                WHERE b.address_id = a.id AND b.fingerprint = \(parsed.hex) AND a.account_id = \(account)
                RETURNING a.address
                """)
            try await Self.enqueueRefresh(addresses: try unbound.map { try $0.decode("address") }, on: connection)
            try await connection.query("""
                DELETE FROM keys WHERE fingerprint = \(parsed.hex) AND NOT EXISTS (SELECT 1 FROM account_keys WHERE fingerprint = \(parsed.hex))
                """)
        }
    }
}
