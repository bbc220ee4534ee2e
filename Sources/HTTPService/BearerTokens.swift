import Foundation

/// The bearer tokens a service accepts, each with the name that identifies its holder in the audit log.
///
/// Parsed from `name:token` configuration entries. Look-up compares the presented token with every
/// configured one in constant time (time depends on lengths only, never on where bytes differ), so
/// timing tells an attacker nothing about a token's content.
public struct BearerTokens: Sendable {
    let entries: [(name: String, token: [UInt8])]

    public init(_ configured: [String]) {
        entries = configured.compactMap { entry in
            guard let colon = entry.firstIndex(of: ":") else { return nil }
            return (String(entry[..<colon]), Array(entry[entry.index(after: colon)...].utf8))
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The holder's name if `presented` is one of the tokens.
    public func holder(of presented: some StringProtocol) -> String? {
        let bytes = Array(presented.utf8)
        var found: String?
        for entry in entries where Self.constantTimeEqual(bytes, entry.token) {
            found = entry.name
        }
        return found
    }

    /// Equal iff same length and same bytes; examines every byte of `b` whatever the input.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        for index in 0..<b.count {
            difference |= (index < a.count ? a[index] : 0) ^ b[index]
        }
        return difference == 0
    }
}
