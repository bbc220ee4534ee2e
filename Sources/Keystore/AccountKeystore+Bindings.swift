import Core
import Foundation
import OpenPGP

extension AccountKeystore {
    /// Binds one of `account`'s addresses (primary or alias) to a key of its keystore: the user's consent
    /// to publishing that key for that address in WKD ("the key icon next to the From address"). The key
    /// must be valid now and carry a valid User ID with exactly that address. One key per address:
    /// binding another replaces the binding.
    public func bind(_ addressText: String, to fingerprint: String, of account: Int64, by actor: String) async throws {
        let action = "key.bind"
        let details = ["account": String(account), "fingerprint": String(fingerprint.prefix(100))]
        let address: EmailAddress
        let parsed: Fingerprint
        do {
            address = try EmailAddress(addressText)
            parsed = try Fingerprint(fingerprint)
        } catch {
            throw await refuse(KeystoreError(.addressNotFound, "\(error)"), action, by: actor, subject: String(addressText.prefix(300)), details: details)
        }
        let time = openPGPNow
        try await change(action, by: actor, subject: address.canonical, details: details) { connection in
            try await requireActiveAccount(account, on: connection)
            let addressID = try await ownAddressID(address, of: account, on: connection)
            let rows = try await connection.query("""
                SELECT k.certificate, m.user_ids::text AS user_ids FROM account_keys m JOIN keys k ON k.fingerprint = m.fingerprint
                WHERE m.account_id = \(account) AND m.fingerprint = \(parsed.hex)
                FOR SHARE OF m
                """)
            guard let row = rows.first else { throw KeystoreError(.keyNotFound, "account \(account) holds no key \(parsed.hex)") }
            let key = try Self.stored(try row.decode("certificate")).validated(at: time)
            guard key.status(at: time) == .valid else {
                throw KeystoreError(.keyNotUsable, "key \(parsed.hex) is \(KeyRecord.status(key.status(at: time)).1 ?? KeyRecord.status(key.status(at: time)).0): it is not published")
            }
            // Only a User ID this account itself imported: another account's fuller copy of the key is not its consent.
            let seen = try row.decodeIfPresent("user_ids", as: String.self).map { Set(try JSONDecoder().decode([String].self, from: Data($0.utf8))) }
            guard let userID = key.currentUserIDs.first(where: { $0.email == address && seen?.contains($0.text) != false }) else {
                throw KeystoreError(.userIDMismatch, "key \(parsed.hex) has no valid User ID for \(address)")
            }
            guard userID.text.unicodeScalars.count <= 4096 else {
                throw KeystoreError(.userIDMismatch, "key \(parsed.hex)'s User ID for \(address) is longer than 4096 characters")
            }
            // One key per address: a concurrent bind of the same address replaces rather than collides.
            try await connection.query("""
                INSERT INTO key_addresses (fingerprint, address_id, user_id) VALUES (\(parsed.hex), \(addressID), \(userID.text))
                ON CONFLICT (address_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, user_id = EXCLUDED.user_id, created_at = now()
                """)
            try await Self.enqueueRefresh(addresses: [address.canonical], on: connection)
        }
    }

    /// Withdraws the consent: the address's key is no longer published.
    public func unbind(_ addressText: String, of account: Int64, by actor: String) async throws {
        let action = "key.unbind"
        let details = ["account": String(account)]
        let address: EmailAddress
        do {
            address = try EmailAddress(addressText)
        } catch {
            throw await refuse(KeystoreError(.addressNotFound, "\(error)"), action, by: actor, subject: String(addressText.prefix(300)), details: details)
        }
        try await change(action, by: actor, subject: address.canonical, details: details) { connection in
            try await requireActiveAccount(account, on: connection)
            let addressID = try await ownAddressID(address, of: account, on: connection)
            guard try await connection.query("DELETE FROM key_addresses WHERE address_id = \(addressID)").affectedRows == 1 else {
                throw KeystoreError(.notBound, "\(address) has no key bound")
            }
            try await Self.enqueueRefresh(addresses: [address.canonical], on: connection)
        }
    }

    func ownAddressID(_ address: EmailAddress, of account: Int64, on connection: PostgresConnection) async throws -> Int64 {
        guard let row = try await connection.query("""
            SELECT id FROM addresses WHERE address = \(address.canonical) AND account_id = \(account)
            """).first else {
            throw KeystoreError(.addressNotFound, "\(address) is not an address of account \(account)")
        }
        return try row.decode("id")
    }
}
