import Core

/// Why the keystore refused a request: a machine-readable `code` for API clients and scripts and a
/// message that says what is wrong. Nothing was stored when one is thrown.
public struct KeystoreError: AuditableRefusal, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Not OpenPGP, malformed, or no certificate in it.
        public static let invalidKey = Code(rawValue: "invalid_key")
        /// Over `keystore.maxImportSize`, or a certificate over the stored limit.
        public static let keyTooLarge = Code(rawValue: "key_too_large")
        /// Secret key material sent where a public key belongs.
        public static let secretKeyMaterial = Code(rawValue: "secret_key_material")
        /// A secret key whose secret part is stored in the clear.
        public static let unprotectedSecretKey = Code(rawValue: "unprotected_secret_key")
        /// Nothing holds the key up: no valid self-signature (or its primary key is refused by policy).
        public static let noValidSelfSignature = Code(rawValue: "no_valid_self_signature")
        public static let keyNotFound = Code(rawValue: "key_not_found")
        public static let accountNotFound = Code(rawValue: "account_not_found")
        public static let accountClosed = Code(rawValue: "account_closed")
        public static let addressNotFound = Code(rawValue: "address_not_found")
        /// The key has no valid (self-certified, unrevoked) User ID with exactly the address.
        public static let userIDMismatch = Code(rawValue: "user_id_mismatch")
        /// The key is expired, revoked or not yet valid: it is not bound for publication.
        public static let keyNotUsable = Code(rawValue: "key_not_usable")
        public static let notBound = Code(rawValue: "not_bound")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
    public var auditCode: String { code.rawValue }
    public var auditMessage: String { message }
}
