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
        // FOR NO KEY UPDATE: enough for rewriting the row, and it does not wait for the key-share locks that
        // inserts referencing the key (key_vks_checks, jobs' neighbours) take.
        guard let row = try await connection.query("""
            SELECT certificate, status, array_to_string(subkey_fingerprints, ',') AS subkeys FROM keys
            WHERE fingerprint = \(fingerprint.hex) FOR NO KEY UPDATE
            """).first else { return .notStored }
        let storedBytes: [UInt8] = try row.decode("certificate")
        let previousStatus: String = try row.decode("status")
        let stored = try Self.stored(storedBytes)
        // Only what verified on its own takes part, as for an import: a flood of unverifiable signatures
        // dated later could otherwise crowd the real ones out of validation's window of newest signatures.
        let verified = try Self.stored(fetched.restricted(toUserIDsOf: stored).validated(at: time).serialized)
        let merged = try stored.merged(with: verified).validated(at: time)
        let bytes = merged.serialized
        let status = Self.statusWord(merged, at: time)
        guard bytes != storedBytes || status != previousStatus else {
            try await Self.indexSubkeys(of: stored, fingerprint: fingerprint, indexed: try row.decode("subkeys"), at: time, on: connection)
            return .unchanged(status: status)
        }
        guard bytes.count <= Self.maxCertificateSize else {
            throw KeystoreError(.keyTooLarge, "certificate \(fingerprint.hex) would be larger than 1 MiB once merged")
        }
        try await Self.write(merged, bytes: bytes, of: fingerprint, at: time, on: connection)
        try await Self.enqueueRefresh(addresses: try await Self.boundAddresses(of: fingerprint, on: connection), on: connection)
        return .changed(status: status, previousStatus: previousStatus)
    }

    /// Writes the subkey index of a stored key whose index is missing or out of date (keys stored before
    /// migration 0015): `indexed` is the stored index, comma-separated. Every refresh calls it, found or not.
    public static func indexSubkeys(of fingerprint: Fingerprint, at time: UInt32, on connection: PostgresConnection) async throws {
        guard let row = try await connection.query("""
            SELECT certificate, array_to_string(subkey_fingerprints, ',') AS subkeys FROM keys WHERE fingerprint = \(fingerprint.hex)
            """).first else { return }
        try await indexSubkeys(of: try Self.stored(try row.decode("certificate")), fingerprint: fingerprint, indexed: try row.decode("subkeys"),
                               at: time, on: connection)
    }

    static func indexSubkeys(of certificate: Certificate, fingerprint: Fingerprint, indexed: String, at time: UInt32,
                             on connection: PostgresConnection) async throws {
        let subkeys = certificate.validated(at: time).subkeys.map(\.fingerprint.hex)
        guard subkeys.joined(separator: ",") != indexed else { return }
        try await connection.query("UPDATE keys SET subkey_fingerprints = \(PostgresArray(subkeys))::text[] WHERE fingerprint = \(fingerprint.hex)")
    }
}
