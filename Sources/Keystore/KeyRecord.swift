import Core
import Foundation
import OpenPGP

/// A key as an account's keystore shows it: what the certificate says now, and how the account holds it.
public struct KeyRecord: Codable, Sendable, Equatable {
    public struct UserID: Codable, Sendable, Equatable {
        public var text: String
        /// The address in it, canonical, when it has exactly one.
        public var email: String?
        public var revoked: Bool
    }

    public var fingerprint: String
    public var version: Int
    /// e.g. `Ed25519`, `RSA 3072`.
    public var algorithm: String
    /// The self-certified User IDs (revoked ones marked).
    public var userIDs: [UserID]
    public var subkeys: Int
    /// valid, invalid, not_yet_valid, expired or revoked (at the time of the answer).
    public var status: String
    public var statusDetail: String?
    public var expiresAt: Date?
    public var revokedAt: Date?
    /// The account's addresses bound to this key (published in WKD).
    public var boundAddresses: [String]
    /// upload, wkd or vks: how this account got it.
    public var source: String
    public var importedAt: Date
    public var updatedAt: Date
}

extension KeyRecord {
    init(_ key: ValidCertificate, at time: UInt32, boundAddresses: [String], source: String, importedAt: Date, updatedAt: Date) {
        let (status, detail) = Self.status(key.status(at: time))
        self.init(
            fingerprint: key.fingerprint.hex, version: Int(key.primaryKey.version), algorithm: Self.algorithm(key.primaryKey),
            userIDs: key.userIDs.map { UserID(text: $0.text, email: $0.email?.canonical, revoked: $0.isRevoked) },
            subkeys: key.subkeys.count, status: status, statusDetail: detail,
            expiresAt: key.expirationTime.map { Date(timeIntervalSince1970: TimeInterval($0)) },
            revokedAt: Self.revocationTime(key.status(at: time)), boundAddresses: boundAddresses, source: source,
            importedAt: importedAt, updatedAt: updatedAt
        )
    }

    /// The status word stored in `keys.status`, and a detail for people.
    public static func status(_ status: ValidCertificate.Status) -> (String, String?) {
        switch status {
        case .valid: ("valid", nil)
        case .invalid(let reason): ("invalid", reason)
        case .notYetValid: ("not_yet_valid", nil)
        case .expired(let at): ("expired", "expired \(Date(timeIntervalSince1970: TimeInterval(at)).formatted(.iso8601))")
        case .revoked(let reason, let text, _): ("revoked", "revoked (\(reason))" + (text.isEmpty ? "" : ": \(text)"))
        }
    }

    static func revocationTime(_ status: ValidCertificate.Status) -> Date? {
        if case .revoked(_, _, let at) = status { return Date(timeIntervalSince1970: TimeInterval(at)) }
        return nil
    }

    /// `RSA 3072`, `ECDSA NIST P-256`, `EdDSA (legacy) Ed25519 (legacy OID)`, `Ed25519`.
    static func algorithm(_ key: PublicKeyPacket) -> String {
        switch key.material {
        case .rsa, .dsa, .elgamal: "\(key.algorithm) \(key.bits)"
        case .ecdsa(let curve, _), .eddsaLegacy(let curve, _), .ecdh(let curve, _, _): "\(key.algorithm) \(curve)"
        case .native, .opaque: "\(key.algorithm)"
        }
    }
}
