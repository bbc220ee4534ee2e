import Core
import Foundation

/// An account as the API and platformctl show it.
public struct AccountRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var state: String
    public var primaryAddress: String?
    public var createdAt: Date
    public var closedAt: Date?
}

/// One of an account's addresses, with what may still be done with it.
public struct AddressRecord: Codable, Sendable, Equatable {
    public var address: String
    /// `primary` or `alias`.
    public var kind: String
    public var domain: String
    /// `platform` or `custom`.
    public var domainKind: String
    public var enabled: Bool
    /// Whether deleting it would be allowed now (custom-domain aliases always; platform aliases only
    /// before the cutoff; primary addresses never).
    public var deletable: Bool
    public var createdAt: Date
    public var disabledAt: Date?
}

/// A domain and, for a custom domain, the account that owns it.
public struct DomainRecord: Codable, Sendable, Equatable {
    public var name: String
    /// `platform` or `custom`.
    public var kind: String
    public var accountID: Int64?
    public var createdAt: Date
}
