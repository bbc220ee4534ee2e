import Core
import Foundation
import OpenPGP

/// What one certificate of an import did.
public struct KeyImportResult: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// Stored for the first time.
        case new
        /// Known already; the import added something (a User ID, a subkey, a signature, a revocation).
        case merged
        /// Known already with everything the import held.
        case unchanged
    }

    public var fingerprint: String
    public var outcome: Outcome
    public var status: String
    /// What validation left out (a bad signature, a subkey without a valid binding), for the uploader.
    public var dropped: [String]
}

/// How an account obtained a key: its own upload, or a look-up that found it in a WKD, the VKS, or
/// (for an address on our own domains) our own tables.
public enum KeySource: String, Codable, Sendable {
    case upload, wkd, vks, local
}

extension AccountKeystore {
    /// The stored-certificate limit of the `keys` table.
    static let maxCertificateSize = 1 << 20

    /// Imports every certificate in `data` (armored or binary; a keyring imports each) into `account`'s
    /// keystore, merging with what is stored. All or nothing: unparsable data, more than the size limit,
    /// secret key material, or a certificate that nothing holds up (no valid self-signature) refuses the
    /// whole import and stores nothing.
    public func importCertificates(_ data: [UInt8], for account: Int64, source: KeySource = .upload, by actor: String) async throws -> [KeyImportResult] {
        let action = "key.import"
        let details = ["account": String(account), "source": source.rawValue]
        let time = openPGPNow
        let certificates: [(certificate: Certificate, valid: ValidCertificate)]
        do {
            certificates = try parse(data, at: time)
        } catch let refusal as KeystoreError {
            throw await refuse(refusal, action, by: actor, subject: nil, details: details)
        }
        let subject = certificates.map(\.certificate.fingerprint.hex).joined(separator: ",")
        return try await change(action, by: actor, subject: subject, details: details) { connection in
            try await requireActiveAccount(account, on: connection)
            var results: [KeyImportResult] = []
            for (certificate, valid) in certificates {
                results.append(try await store(certificate, valid, at: time, on: connection))
                // The account sees the User IDs it imported (those that verified in its upload: a User ID
                // sent without a valid signature cannot serve to confirm a guess of another copy's),
                // whatever other copies added to the shared row.
                let userIDs = String(decoding: try JSONEncoder().encode(valid.userIDs.map(\.text)), as: UTF8.self)
                try await connection.query("""
                    INSERT INTO account_keys (account_id, fingerprint, source, user_ids)
                    VALUES (\(account), \(certificate.fingerprint.hex), \(source.rawValue), \(userIDs)::jsonb)
                    ON CONFLICT (account_id, fingerprint) DO UPDATE SET user_ids = (
                        SELECT coalesce(jsonb_agg(DISTINCT seen), '[]') FROM (
                            SELECT jsonb_array_elements_text(account_keys.user_ids) UNION SELECT jsonb_array_elements_text(EXCLUDED.user_ids)
                        ) AS known (seen))
                    WHERE account_keys.user_ids IS NOT NULL
                    """)
            }
            return results
        }
    }

    /// Parses and validates, refusing as described above.
    func parse(_ data: [UInt8], at time: UInt32) throws -> [(certificate: Certificate, valid: ValidCertificate)] {
        guard data.count <= maxImportSize else {
            throw KeystoreError(.keyTooLarge, "the import is \(data.count) bytes, more than keystore.maxImportSize (\(maxImportSize))")
        }
        let certificates: [Certificate]
        do {
            certificates = try Certificate.parse(data)
        } catch {
            if error.kind == .secretKeyMaterial {
                throw KeystoreError(.secretKeyMaterial, error.message)
            }
            throw KeystoreError(error.kind == .tooLarge ? .keyTooLarge : .invalidKey, "not an OpenPGP certificate: \(error.message)")
        }
        guard !certificates.isEmpty else { throw KeystoreError(.invalidKey, "the data holds no certificate") }
        // The same key twice in one keyring is one certificate: its copies are merged first.
        var order: [Fingerprint] = []
        var united: [Fingerprint: Certificate] = [:]
        for certificate in certificates {
            if let earlier = united[certificate.fingerprint] {
                united[certificate.fingerprint] = try earlier.merged(with: certificate)
            } else {
                order.append(certificate.fingerprint)
                united[certificate.fingerprint] = certificate
            }
        }
        return try order.map { fingerprint in
            let valid = united[fingerprint]!.validated(at: time)
            if case .invalid(let reason) = valid.status(at: time) {
                throw KeystoreError(.noValidSelfSignature, "certificate \(fingerprint.hex): \(reason)")
            }
            let canonical = valid.serialized
            guard canonical.count <= Self.maxCertificateSize else {
                throw KeystoreError(.keyTooLarge, "certificate \(fingerprint.hex) is larger than 1 MiB once canonical")
            }
            // Only what verified takes part in a merge: unverified signatures in an upload (a flood of
            // forged revocations or certifications dated later) could otherwise crowd the stored, real
            // ones out of validation's window of newest signatures.
            return (try Self.stored(canonical), valid)
        }
    }

    /// Inserts the certificate or merges it into the stored one (locked for the transaction).
    func store(_ certificate: Certificate, _ valid: ValidCertificate, at time: UInt32, on connection: PostgresConnection) async throws -> KeyImportResult {
        let fingerprint = certificate.fingerprint
        // Inserts, or locks the stored row and reads it, in one statement (a concurrent delete waits).
        let row = try await connection.query("""
            INSERT INTO keys (fingerprint, version, certificate, status, has_user_id, expires_at, revoked_at, subkey_fingerprints)
            VALUES (\(fingerprint.hex), \(Int(valid.primaryKey.version)), \(valid.serialized), \(Self.statusWord(valid, at: time)),
                    \(!valid.userIDs.isEmpty), \(Self.expiry(valid)), \(KeyRecord.revocationTime(valid.status(at: time))),
                    \(Self.subkeyFingerprints(valid))::text[])
            ON CONFLICT (fingerprint) DO UPDATE SET fingerprint = keys.fingerprint
            RETURNING xmax = 0 AS inserted, certificate
            """).first!
        if try row.decode("inserted", as: Bool.self) {
            try await JobQueue.enqueue(VKSRefreshJob.make(fingerprint: fingerprint), on: connection)
            return KeyImportResult(fingerprint: fingerprint.hex, outcome: .new, status: Self.statusWord(valid, at: time), dropped: valid.dropped)
        }
        let stored: [UInt8] = try row.decode("certificate")
        let merged = try Self.stored(stored).merged(with: certificate).validated(at: time)
        let bytes = merged.serialized
        guard bytes != stored else {
            return KeyImportResult(fingerprint: fingerprint.hex, outcome: .unchanged, status: Self.statusWord(merged, at: time), dropped: valid.dropped)
        }
        guard bytes.count <= Self.maxCertificateSize else {
            throw KeystoreError(.keyTooLarge, "certificate \(fingerprint.hex) would be larger than 1 MiB once merged")
        }
        try await Self.write(merged, bytes: bytes, of: fingerprint, at: time, on: connection)
        try await Self.enqueueRefresh(addresses: try await Self.boundAddresses(of: fingerprint, on: connection), on: connection)
        try await JobQueue.enqueue(VKSRefreshJob.make(fingerprint: fingerprint), on: connection)
        return KeyImportResult(fingerprint: fingerprint.hex, outcome: .merged, status: Self.statusWord(merged, at: time), dropped: valid.dropped)
    }

    /// Replaces the stored certificate of `fingerprint` with `merged` (serialized as `bytes`) and what is
    /// derived from it: status, expiry, revocation, the subkey index.
    static func write(_ merged: ValidCertificate, bytes: [UInt8], of fingerprint: Fingerprint, at time: UInt32,
                      on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE keys SET certificate = \(bytes), status = \(Self.statusWord(merged, at: time)), has_user_id = \(!merged.userIDs.isEmpty),
                            subkey_fingerprints = \(Self.subkeyFingerprints(merged))::text[],
                            expires_at = \(Self.expiry(merged)), revoked_at = \(KeyRecord.revocationTime(merged.status(at: time))), updated_at = now()
            WHERE fingerprint = \(fingerprint.hex)
            """)
    }

    /// The fingerprints of the key's valid subkeys, for finding it by a signature's issuer.
    static func subkeyFingerprints(_ key: ValidCertificate) -> PostgresArray {
        PostgresArray(key.subkeys.map(\.key.fingerprint.hex))
    }

    static func statusWord(_ key: ValidCertificate, at time: UInt32) -> String {
        KeyRecord.status(key.status(at: time)).0
    }

    static func expiry(_ key: ValidCertificate) -> Date? {
        key.expirationTime.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }
}
