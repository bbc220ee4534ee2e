import Core
import Foundation

/// The syntax and naming rules a new address must meet before the database is asked anything: one place
/// for the service and platformctl, so both refuse the same addresses with the same words.
public struct AddressRules: Sendable {
    /// Lower-case local parts nobody may take on a platform domain.
    public var reservedLocalParts: Set<String>
    public var maxAliasesPerAccount: Int
    /// RFC 6531 local parts; off, only ASCII is accepted.
    public var allowUTF8LocalParts: Bool

    public init(reservedLocalParts: [String] = AliasSettings.defaultReservedLocalParts, maxAliasesPerAccount: Int = 50, allowUTF8LocalParts: Bool = false) {
        self.reservedLocalParts = Set(reservedLocalParts.map { $0.lowercased() })
        self.maxAliasesPerAccount = maxAliasesPerAccount
        self.allowUTF8LocalParts = allowUTF8LocalParts
    }

    public init(_ config: PalisadeConfiguration) {
        self.init(
            reservedLocalParts: AliasSettings.reservedLocalParts.read(config),
            maxAliasesPerAccount: AliasSettings.maxAliasesPerAccount.read(config),
            allowUTF8LocalParts: AliasSettings.allowUTF8LocalParts.read(config)
        )
    }

    /// Parses and checks an address someone wants to hold.
    ///
    /// RFC 5321 syntax and lengths come from `EmailAddress`. On top of it: a quoted local part
    /// (`"a b"@x`) is refused, because many MTAs and clients mishandle them and such an address is easy
    /// to make look like another; non-ASCII local parts only with `aliases.smtputf8`.
    public func parse(_ text: String) throws(AliasError) -> EmailAddress {
        let address: EmailAddress
        do {
            address = try EmailAddress(text)
        } catch let error as EmailAddress.ParseError {
            throw AliasError(.invalidAddress, error.description)
        } catch {
            throw AliasError(.invalidAddress, "\(error)")
        }
        if address.localPart.hasPrefix("\"") {
            throw AliasError(.invalidAddress, "\(address) has a quoted local part; only letters, digits, dots and !#$%&'*+-/=?^_`{|}~ are offered")
        }
        if !allowUTF8LocalParts, !address.localPart.unicodeScalars.allSatisfy(\.isASCII) {
            throw AliasError(.invalidAddress, "\(address) has a non-ASCII local part, which needs SMTPUTF8 (aliases.smtputf8 is off)")
        }
        return address
    }

    /// Whether `address` is a role name kept back on platform domains; `postmaster+x` counts as
    /// `postmaster`, since a `+` delimiter delivers it to the same mailbox on many MTAs.
    public func isReserved(_ address: EmailAddress) -> Bool {
        let local = address.localPart.lowercased()
        let base = local.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? local
        return reservedLocalParts.contains(local) || reservedLocalParts.contains(base)
    }
}
