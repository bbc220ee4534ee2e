import Core
import Foundation
import OpenPGP

/// What merging a key server's copy into the stored certificate did.
public enum FetchedCopyOutcome: Sendable, Equatable {
    /// The key is not (any more) stored: nothing to merge into.
    case notStored
    /// Nothing new: the stored certificate, and its status, stay as they were.
    case unchanged(status: String)
    /// The certificate or its status changed (a revocation, a newer expiry, a new subkey, or the key
    /// expiring since it was last written); the WKD recomputes its bound addresses.
    case changed(status: String, previousStatus: String)
}

extension AccountKeystore {
    /// Merges `data`, the copy of `fingerprint` a key server served, into the stored certificate, in the
    /// caller's transaction (the row is locked): only what verifies is taken (revocations of the key, its
    /// subkeys and its User IDs; newer self-signatures, so new expiry dates; new subkeys with their
    /// bindings), and only for the User IDs we already hold: a key server's copy brings no new identity
    /// and no User Attribute. Nothing stored is dropped because the copy lacks it (a VKS publishes only
    /// the User IDs their owners confirmed). When the certificate or its status changes, `wkd.refresh` is
    /// queued for every address bound to the key, in the same transaction.
    public static func mergeFetchedCopy(_ data: [UInt8], of fingerprint: Fingerprint, at time: UInt32,
                                        on connection: PostgresConnection) async throws -> FetchedCopyOutcome {
        let fetched: Certificate
        do {
            guard let copy = try Certificate.parse(data).first(where: { $0.fingerprint == fingerprint }) else {
                throw KeystoreError(.invalidKey, "the key server's answer holds no certificate \(fingerprint.hex)")
            }
            fetched = copy
        } catch let error as OpenPGPError {
            throw KeystoreError(error.kind == .tooLarge ? .keyTooLarge : .invalidKey, "the key server's copy of \(fingerprint.hex): \(error.message)")
        }
        guard let row = try await connection.query("""
            SELECT certificate, status, array_to_string(subkey_fingerprints, ',') AS subkeys FROM keys WHERE fingerprint = \(fingerprint.hex) FOR UPDATE
            """).first else { return .notStored }
        let storedBytes: [UInt8] = try row.decode("certificate")
        let previousStatus: String = try row.decode("status")
        let storedSubkeys = try row.decode("subkeys", as: String.self).split(separator: ",").map(String.init)
        let stored = try Self.stored(storedBytes)
        // Only what verified on its own takes part, as for an import: a flood of unverifiable signatures
        // dated later could otherwise crowd the real ones out of validation's window of newest signatures.
        let verified = try Self.stored(fetched.restricted(toUserIDsOf: stored).validated(at: time).serialized)
        let merged = try stored.merged(with: verified).validated(at: time)
        let bytes = merged.serialized
        let status = Self.statusWord(merged, at: time)
        let subkeys = merged.subkeys.map(\.key.fingerprint.hex)
        guard bytes != storedBytes || status != previousStatus else {
            // Keys stored before their subkeys were indexed (migration 0015) get the index here.
            if subkeys != storedSubkeys {
                try await connection.query("UPDATE keys SET subkey_fingerprints = \(PostgresArray(subkeys))::text[] WHERE fingerprint = \(fingerprint.hex)")
            }
            return .unchanged(status: status)
        }
        guard bytes.count <= Self.maxCertificateSize else {
            throw KeystoreError(.keyTooLarge, "certificate \(fingerprint.hex) would be larger than 1 MiB once merged")
        }
        try await connection.query("""
            UPDATE keys SET certificate = \(bytes), status = \(status), has_user_id = \(!merged.userIDs.isEmpty),
                            subkey_fingerprints = \(PostgresArray(subkeys))::text[],
                            expires_at = \(Self.expiry(merged)), revoked_at = \(KeyRecord.revocationTime(merged.status(at: time))), updated_at = now()
            WHERE fingerprint = \(fingerprint.hex)
            """)
        try await JobQueue.enqueue(batch: try await Self.boundAddresses(of: fingerprint, on: connection).map {
            try WKDRefreshJob.make(canonicalAddress: $0)
        }, on: connection)
        return .changed(status: status, previousStatus: previousStatus)
    }
}
