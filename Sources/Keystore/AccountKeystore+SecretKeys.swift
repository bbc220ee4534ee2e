import Core
import Foundation
import OpenPGP

extension AccountKeystore {
    /// Stores `account`'s secret key exactly as its client encrypted it. The key must belong to a
    /// certificate in the account's keystore (the primary key, and each secret subkey one of its subkeys)
    /// and every secret part must be passphrase-protected; it is never decrypted. Replaces an earlier copy.
    public func storeSecretKey(_ data: [UInt8], for account: Int64, by actor: String) async throws -> String {
        let action = "secret_key.store"
        let details = ["account": String(account)]
        let secret: SecretKeyPackets
        do {
            guard data.count <= Self.maxCertificateSize else {
                throw KeystoreError(.keyTooLarge, "the secret key is \(data.count) bytes, more than 1 MiB")
            }
            do {
                secret = try SecretKeyPackets.parse(data)
            } catch {
                throw KeystoreError(.invalidKey, "not an OpenPGP secret key: \(error.message)")
            }
            let unprotected = ([secret.primary] + secret.subkeys).filter { !$0.isProtected }
            guard unprotected.isEmpty else {
                throw KeystoreError(.unprotectedSecretKey, "secret key \(unprotected.map(\.publicKey.fingerprint.hex).joined(separator: ", ")) is not protected by a passphrase (or only by the legacy scheme RFC 9580 forbids): protect it with a current OpenPGP implementation before upload")
            }
        } catch let refusal as KeystoreError {
            throw await refuse(refusal, action, by: actor, subject: nil, details: details)
        }
        let fingerprint = secret.fingerprint
        try await change(action, by: actor, subject: fingerprint.hex, details: details) { connection in
            try await requireActiveAccount(account, on: connection)
            let rows = try await connection.query("""
                SELECT k.certificate FROM account_keys m JOIN keys k ON k.fingerprint = m.fingerprint
                WHERE m.account_id = \(account) AND m.fingerprint = \(fingerprint.hex)
                """)
            guard let row = rows.first else {
                throw KeystoreError(.keyNotFound, "account \(account) holds no certificate \(fingerprint.hex): import the public key first")
            }
            let certificate = try Self.stored(try row.decode("certificate"))
            let subkeys = Set(certificate.subkeys.map(\.key.fingerprint))
            if let stranger = secret.subkeys.first(where: { !subkeys.contains($0.publicKey.fingerprint) }) {
                throw KeystoreError(.keyNotFound, "secret subkey \(stranger.publicKey.fingerprint.hex) is not a subkey of the stored certificate \(fingerprint.hex)")
            }
            try await connection.query("""
                INSERT INTO secret_keys (account_id, fingerprint, packets) VALUES (\(account), \(fingerprint.hex), \(secret.binary))
                ON CONFLICT (account_id, fingerprint) DO UPDATE SET packets = EXCLUDED.packets, stored_at = now()
                """)
        }
        return fingerprint.hex
    }

    /// The account's own secret key as stored (binary), for its client to decrypt.
    public func secretKey(_ fingerprint: String, of account: Int64) async throws -> [UInt8] {
        guard let parsed = try? Fingerprint(fingerprint) else {
            throw KeystoreError(.keyNotFound, "\(fingerprint.prefix(80)) is not a fingerprint")
        }
        guard let row = try await pool.query("""
            SELECT packets FROM secret_keys WHERE account_id = \(account) AND fingerprint = \(parsed.hex)
            """).first else {
            throw KeystoreError(.keyNotFound, "account \(account) stores no secret key \(parsed.hex)")
        }
        return try row.decode("packets")
    }

    /// Forgets the account's secret key (its certificate stays).
    public func deleteSecretKey(_ fingerprint: String, of account: Int64, by actor: String) async throws {
        let action = "secret_key.delete"
        guard let parsed = try? Fingerprint(fingerprint) else {
            throw await refuse(KeystoreError(.keyNotFound, "\(fingerprint.prefix(80)) is not a fingerprint"), action, by: actor,
                               subject: String(fingerprint.prefix(100)), details: ["account": String(account)])
        }
        try await change(action, by: actor, subject: parsed.hex, details: ["account": String(account)]) { connection in
            try await requireActiveAccount(account, on: connection)
            guard try await connection.query("DELETE FROM secret_keys WHERE account_id = \(account) AND fingerprint = \(parsed.hex)").affectedRows == 1 else {
                throw KeystoreError(.keyNotFound, "account \(account) stores no secret key \(parsed.hex)")
            }
        }
    }
}
