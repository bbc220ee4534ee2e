import Core
import Foundation
import OpenPGP

/// One address of a key the user chose to publish at the VKS, and the VKS's last word on it.
public struct VKSPublicationState: Codable, Sendable, Equatable {
    public var address: String
    /// unpublished, pending (the verification mail is sent), published or revoked.
    public var state: String
    public var updatedAt: Date
}

extension AccountKeystore {
    /// What to upload when `account` asks to publish its key `fingerprint` for `addresses` at the VKS: the
    /// certificate with only the User IDs of those addresses (the others are not the user's to send), as
    /// armored text. Refused unless the account holds the key and each address is one of the account's,
    /// carried by a valid User ID of the key.
    public func vksUpload(account: Int64, fingerprint: Fingerprint, addresses: [String]) async throws -> (armored: String, addresses: [String]) {
        guard !addresses.isEmpty, addresses.count <= 16 else {
            throw KeystoreError(.addressNotFound, "name between 1 and 16 addresses to publish, not \(addresses.count)")
        }
        var chosen: [EmailAddress] = []
        do {
            // Each address once, however it was written.
            for address in try addresses.map({ try EmailAddress($0) }) where !chosen.contains(where: { $0.canonical == address.canonical }) {
                chosen.append(address)
            }
        } catch {
            throw KeystoreError(.addressNotFound, "not an e-mail address: \(error)")
        }
        return try await pool.withConnection { connection in
            try await requireActiveAccount(account, on: connection)
            guard let row = try await connection.query("""
                SELECT k.certificate FROM account_keys a JOIN keys k USING (fingerprint)
                WHERE a.account_id = \(account) AND a.fingerprint = \(fingerprint.hex)
                """).first else {
                throw KeystoreError(.keyNotFound, "account \(account) holds no key \(fingerprint.hex)")
            }
            let owned = Set(try await connection.query("""
                SELECT address FROM addresses WHERE account_id = \(account) AND address = ANY(\(PostgresArray(chosen.map(\.canonical)))::text[])
                """).map { try $0.decode("address", as: String.self) })
            if let stranger = chosen.first(where: { !owned.contains($0.canonical) }) {
                throw KeystoreError(.addressNotFound, "\(stranger.canonical) is not an address of account \(account)")
            }
            let valid = try Self.stored(try row.decode("certificate")).validated(at: openPGPNow)
            let selected = valid.userIDs.filter { userID in !userID.isRevoked && chosen.contains { $0.canonical == userID.email?.canonical } }
            if let missing = chosen.first(where: { address in !selected.contains { $0.email?.canonical == address.canonical } }) {
                throw KeystoreError(.userIDMismatch, "key \(fingerprint.hex) has no valid User ID with the address \(missing.canonical)")
            }
            return (Armor.encode(valid.packets(userIDs: selected).flatMap(\.serialized), as: .publicKey), chosen.map(\.canonical))
        }
    }

    /// Records what the VKS said of each address, audited as `key.vks_publish`.
    public func recordVKSPublication(account: Int64, fingerprint: Fingerprint, states: [String: String], by actor: String) async throws -> [VKSPublicationState] {
        try await audited.change("key.vks_publish", by: actor, subject: fingerprint.hex,
                                 details: ["account": String(account), "addresses": states.keys.sorted().joined(separator: ",")]) { connection in
            for (address, state) in states.sorted(by: { $0.key < $1.key }) {
                try await connection.query("""
                    INSERT INTO vks_publications (account_id, fingerprint, address, state) VALUES (\(account), \(fingerprint.hex), \(address), \(state))
                    ON CONFLICT (account_id, fingerprint, address) DO UPDATE SET state = EXCLUDED.state, updated_at = now()
                    """)
            }
            return try await Self.vksPublications(account: account, fingerprint: fingerprint, on: connection)
        }
    }

    /// The addresses of `fingerprint` that `account` asked to publish, with their last known state.
    public func vksPublications(account: Int64, fingerprint: Fingerprint) async throws -> [VKSPublicationState] {
        try await pool.withConnection { try await Self.vksPublications(account: account, fingerprint: fingerprint, on: $0) }
    }

    static func vksPublications(account: Int64, fingerprint: Fingerprint, on connection: PostgresConnection) async throws -> [VKSPublicationState] {
        try await connection.query("""
            SELECT address, state, updated_at FROM vks_publications WHERE account_id = \(account) AND fingerprint = \(fingerprint.hex) ORDER BY address
            """).map { VKSPublicationState(address: try $0.decode("address"), state: try $0.decode("state"), updatedAt: try $0.decode("updated_at")) }
    }
}
