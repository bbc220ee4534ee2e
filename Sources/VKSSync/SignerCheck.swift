import Core
import Foundation
import KeyDiscovery
import Keystore
import Logging
import OpenPGP

/// Signature validation through the VKS: given a signature's issuer fingerprint (a primary key's or,
/// usually, a signing subkey's), the signer's certificate and its status checked against the VKS now,
/// within a short timeout; when the VKS cannot answer, the last known status, marked as not fresh.
///
/// A copy the VKS serves of a key we store is merged into ours first (`mergeFetchedCopy`: a revocation
/// there revokes it here, and its WKD entries are recomputed), so that the answer and every later one
/// agree; the answer is our merged certificate. A key we do not store is answered from the VKS's copy,
/// validated, and not stored. A key the VKS does not know (404) is answered from our copy, if any.
public struct SignerCheck: Sendable {
    /// What the caller gets.
    public struct Answer: Codable, Sendable, Equatable {
        /// The signer's primary key fingerprint.
        public var fingerprint: String
        /// The fingerprint asked (the primary key's or a subkey's).
        public var issuer: String
        /// The certificate, armored (ours when `stored`, else the VKS's, minus what did not verify).
        public var certificate: String
        /// The certificate's status: valid, invalid, not_yet_valid, expired or revoked.
        public var status: String
        public var statusDetail: String?
        /// The state of the key the issuer fingerprint names, which made the signature: the certificate's
        /// status for its primary key; for a subkey, `revoked` or `expired` (the subkey itself),
        /// `not_signing` (its binding does not allow signing), `not_bound` (no valid binding: it is not part
        /// of the certificate), or else the certificate's status. A signature holds only when this is `valid`.
        public var issuerStatus: String
        /// Whether the key is in our keystore.
        public var stored: Bool
        /// Whether the VKS answered just now; false: the status is the last known one.
        public var fresh: Bool
        /// What the VKS said: found, unknown (404), or unavailable (it did not answer; see `error`).
        public var vks: String
        /// When the VKS last answered for this key (now when `fresh`).
        public var checkedAt: Date?
        public var error: String?
    }

    public enum Failure: Error, Sendable, Equatable {
        /// Neither the VKS nor our keystore has a key with that fingerprint.
        case notFound(String)
        /// The VKS could not answer and we do not store the key.
        case unavailable(String, retryAfter: Date?)
    }

    let pool: PostgresPool
    let client: VKSClient
    let logger: Logger
    let now: @Sendable () -> Date

    /// `client` should have a short timeout (`keystore.signerTimeout`): a caller is waiting.
    public init(pool: PostgresPool, client: VKSClient, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.client = client
        self.logger = logger
        self.now = now
    }

    public func check(issuer: Fingerprint) async throws -> Answer {
        let time = UInt32(clamping: Int64(now().timeIntervalSince1970))
        let answer: VKSClient.Lookup
        do {
            answer = try await client.byFingerprint(issuer)
        } catch {
            do {
                return try await lastKnown(issuer: issuer, at: time, because: "the VKS did not answer (\(error))")
            } catch Failure.unavailable(let message, _) {
                throw Failure.unavailable(message, retryAfter: error.retryAfter)
            }
        }
        switch answer {
        case .notFound:
            guard let primary = try await storedPrimary(issuer) else { throw Failure.notFound("no key has the fingerprint \(issuer.hex)") }
            try await pool.transaction { connection in
                try await VKSRefresher.recordAnswer(primary, found: false, next: nil, on: connection)
            }
            guard var known = try await storedAnswer(issuer: issuer, at: time) else {
                throw Failure.notFound("no key has the fingerprint \(issuer.hex)")
            }
            known.vks = "unknown"
            return known
        case .found(let data):
            let copy: Certificate
            do {
                guard let matching = try Certificate.parse(data).first(where: { certificate in
                    certificate.fingerprint == issuer || certificate.validated(at: time).subkeys.contains { $0.fingerprint == issuer }
                }) else { throw Failure.unavailable("the VKS answered with no valid key that has the fingerprint \(issuer.hex)", retryAfter: nil) }
                copy = matching
            } catch {
                return try await lastKnown(issuer: issuer, at: time, because: "the VKS's answer cannot be used: \(error)")
            }
            let merged: Bool
            do {
                merged = try await pool.transaction { connection -> Bool in
                    switch try await AccountKeystore.mergeFetchedCopy(data, of: copy.fingerprint, at: time, on: connection) {
                    case .notStored: return false
                    case .unchanged, .changed:
                        try await VKSRefresher.recordAnswer(copy.fingerprint, found: true, next: nil, on: connection)
                        return true
                    }
                }
            } catch let refusal as KeystoreError {
                return try await lastKnown(issuer: issuer, at: time, because: "the VKS's copy cannot be merged: \(refusal)")
            }
            if merged, let stored = try await storedAnswer(issuer: issuer, at: time) { return stored }
            // Not ours: the VKS's copy as it validates.
            let valid = copy.validated(at: time)
            let (status, detail) = KeyRecord.status(valid.status(at: time))
            return Answer(fingerprint: copy.fingerprint.hex, issuer: issuer.hex, certificate: Armor.encode(valid.serialized, as: .publicKey),
                          status: status, statusDetail: detail, issuerStatus: Self.issuerStatus(issuer, of: valid, certificateStatus: status, at: time),
                          stored: false, fresh: true, vks: "found", checkedAt: now(), error: nil)
        }
    }

    /// Our copy's last known status when the VKS's answer cannot be used; unavailable if we have none.
    func lastKnown(issuer: Fingerprint, at time: UInt32, because reason: String) async throws -> Answer {
        logger.info("signer check: \(reason); the last known status is used", metadata: ["key.issuer": "\(issuer.hex)"])
        guard var known = try await storedAnswer(issuer: issuer, at: time) else {
            throw Failure.unavailable("\(reason), and the key is not in the keystore", retryAfter: nil)
        }
        known.fresh = false
        known.vks = "unavailable"
        known.error = reason
        return known
    }

    /// See `Answer.issuerStatus`.
    static func issuerStatus(_ issuer: Fingerprint, of key: ValidCertificate, certificateStatus: String, at time: UInt32) -> String {
        guard issuer != key.fingerprint else { return certificateStatus }
        guard let subkey = key.subkeys.first(where: { $0.fingerprint == issuer }) else { return "not_bound" }
        if subkey.isRevoked { return "revoked" }
        if let expiry = subkey.expirationTime, expiry <= time { return "expired" }
        let flags = subkey.bindings.last?.keyFlags?.first
        guard flags.map({ $0 & 0x02 != 0 }) ?? subkey.key.algorithm.canSign else { return "not_signing" }
        return certificateStatus
    }

    /// The primary fingerprint of the stored key that has `issuer` as its primary key or a subkey.
    func storedPrimary(_ issuer: Fingerprint) async throws -> Fingerprint? {
        try await pool.query("""
            SELECT fingerprint FROM keys WHERE fingerprint = \(issuer.hex)
            UNION ALL SELECT fingerprint FROM keys WHERE subkey_fingerprints @> ARRAY[\(issuer.hex)]::text[]
            LIMIT 1
            """).first.map { try Fingerprint(try $0.decode("fingerprint", as: String.self)) }
    }

    /// Our copy, its status now, and the time of its last VKS answer; marks the key used.
    func storedAnswer(issuer: Fingerprint, at time: UInt32) async throws -> Answer? {
        guard let primary = try await storedPrimary(issuer),
              let row = try await pool.query("""
                  UPDATE keys SET last_used_at = now() WHERE fingerprint = \(primary.hex)
                  RETURNING certificate, (SELECT checked_at FROM key_vks_checks c WHERE c.fingerprint = keys.fingerprint) AS checked_at,
                            (SELECT found FROM key_vks_checks c WHERE c.fingerprint = keys.fingerprint) AS found
                  """).first else { return nil }
        let bytes: [UInt8] = try row.decode("certificate")
        guard let certificate = try Certificate.parse(bytes).first else { return nil }
        let valid = certificate.validated(at: time)
        let (status, detail) = KeyRecord.status(valid.status(at: time))
        let found: Bool? = try row.decodeIfPresent("found")
        return Answer(fingerprint: primary.hex, issuer: issuer.hex, certificate: Armor.encode(bytes, as: .publicKey), status: status,
                      statusDetail: detail, issuerStatus: Self.issuerStatus(issuer, of: valid, certificateStatus: status, at: time), stored: true, fresh: true, vks: found == false ? "unknown" : "found",
                      checkedAt: try row.decodeIfPresent("checked_at"), error: nil)
    }
}
