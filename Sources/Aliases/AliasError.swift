import Core
import Foundation

/// Why the alias manager refused a request: a machine-readable `code` that API clients and scripts act
/// on, and a message for people that names the rule. Nothing was changed when one is thrown.
public struct AliasError: AuditableRefusal, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The address is not valid (syntax, length, characters).
        public static let invalidAddress = Code(rawValue: "invalid_address")
        /// The domain name is not valid.
        public static let invalidDomain = Code(rawValue: "invalid_domain")
        /// A role name (postmaster, abuse, …) on a platform domain.
        public static let reservedAddress = Code(rawValue: "reserved_address")
        /// Assigned to another account now or in the past: addresses are never handed on.
        public static let addressTaken = Code(rawValue: "address_taken")
        /// The account already has this address.
        public static let addressExists = Code(rawValue: "address_exists")
        /// The account holds `aliases.maxPerAccount` aliases.
        public static let aliasLimitReached = Code(rawValue: "alias_limit_reached")
        /// The domain is not one we serve, or is another account's custom domain.
        public static let domainNotAllowed = Code(rawValue: "domain_not_allowed")
        /// The domain is already registered.
        public static let domainExists = Code(rawValue: "domain_exists")
        public static let accountNotFound = Code(rawValue: "account_not_found")
        public static let addressNotFound = Code(rawValue: "address_not_found")
        /// The account is closed: its addresses stay reserved and nothing changes any more.
        public static let accountClosed = Code(rawValue: "account_closed")
        /// A platform-domain alias, past the deletion cutoff.
        public static let aliasDeletionForbidden = Code(rawValue: "alias_deletion_forbidden")
        /// A primary address is never deleted or disabled (closing the account is the way).
        public static let primaryAddressProtected = Code(rawValue: "primary_address_protected")
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
