/// How one socketmap map name is answered (`socketmap:inet:127.0.0.1:8461:NAME`): Postfix versions differ
/// in what they can enforce, and operators differ on MTA-STS `testing` policies.
///
/// Written in the configuration as `NAME` or `NAME: option option…` (`transport.profiles`):
/// `mx=hostnames` (default) or `mx=sts-attributes`, and `strict-testing`.
public struct TransportProfile: Sendable, Equatable, CustomStringConvertible {
    public enum MXStyle: String, Sendable {
        /// `secure match=` lists the MX host names that match the policy's patterns, so that any Postfix
        /// enforces RFC 8461 §4.1's one-label wildcards exactly (Postfix's own `.domain` matches any depth).
        case hostnames
        /// As `hostnames`, plus Postfix 3.10's MTA-STS attributes (`policy_type=sts policy_domain=…
        /// mx_host_pattern=… { policy_string = … }`), with which Postfix checks the patterns itself
        /// (`smtp_tls_enforce_sts_mx_patterns = yes`) and writes TLSRPT data. Postfix 3.9 and older
        /// refuse these attributes.
        case stsAttributes = "sts-attributes"
    }

    public let name: String
    public var mxStyle: MXStyle
    /// Treat a `testing` policy as `enforce` (postfix-mta-sts-resolver's `strict_testing`).
    public var strictTesting: Bool

    public init(name: String, mxStyle: MXStyle = .hostnames, strictTesting: Bool = false) {
        self.name = name
        self.mxStyle = mxStyle
        self.strictTesting = strictTesting
    }

    /// Parses `NAME` or `NAME: option…`; an unknown option or a malformed name is an error naming it.
    public init(parsing text: String) throws(TransportProfileError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts[0].trimmingWhitespace()
        guard !name.isEmpty, name.utf8.count <= 64,
              name.utf8.allSatisfy({ MTASTSRecord.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else { throw TransportProfileError("profile \"\(text.prefix(80))\": the map name must be 1 to 64 letters, digits, \"-\", \"_\" or \".\"") }
        self.init(name: name)
        for option in parts.count > 1 ? parts[1].split(whereSeparator: { $0 == " " || $0 == "," }) : [] {
            switch option {
            case "mx=hostnames": mxStyle = .hostnames
            case "mx=sts-attributes": mxStyle = .stsAttributes
            case "strict-testing": strictTesting = true
            default:
                throw TransportProfileError("profile \(name): unknown option \"\(option.prefix(40))\" (known: mx=hostnames, mx=sts-attributes, strict-testing)")
            }
        }
    }

    public var description: String {
        name + ": mx=\(mxStyle.rawValue)" + (strictTesting ? " strict-testing" : "")
    }
}

public struct TransportProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
