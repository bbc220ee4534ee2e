import DNS
import Foundation

/// A domain's SPF record (RFC 7208 §4.6, §12): the directives tried in order against the connecting
/// address, and the `redirect` followed when none matches. What `SPFVerifier` evaluates.
public struct SPFRecord: Sendable, Equatable {
    public enum Qualifier: Character, Sendable, Equatable {
        case pass = "+", fail = "-", softfail = "~", neutral = "?"
    }

    public enum Mechanism: Sendable, Equatable {
        case all
        case include(SPFMacroString)
        /// `a` and `mx`: the target (nil: the current domain) and the IPv4 and IPv6 prefix lengths.
        case a(SPFMacroString?, v4: Int, v6: Int)
        case mx(SPFMacroString?, v4: Int, v6: Int)
        case ptr(SPFMacroString?)
        case ip4([UInt8], prefix: Int)
        case ip6([UInt8], prefix: Int)
        case exists(SPFMacroString)

        /// Whether evaluating it costs a DNS query counted against the limit of 10 (RFC 7208 §4.6.4).
        var queriesDNS: Bool {
            switch self {
            case .all, .ip4, .ip6: false
            default: true
            }
        }
    }

    public struct Directive: Sendable, Equatable {
        public let qualifier: Qualifier
        public let mechanism: Mechanism
        /// The term as written, for reasons and Received-SPF.
        public let text: String
    }

    public let directives: [Directive]
    public let redirect: SPFMacroString?
    public let explanation: SPFMacroString?

    /// Longest record read (a TXT answer's strings joined); RFC 7208 §3.4 says keep them short.
    public static let maximumLength = 4_096

    /// Whether a TXT record is an SPF record: `v=spf1` (any case) alone or followed by a space (§4.5).
    public static func isSPF(_ text: String) -> Bool {
        let lowered = text.prefix(7).lowercased()
        return lowered == "v=spf1" || lowered == "v=spf1 "
    }

    /// Parses one record; any syntax error is an `SPFError` (a permerror, §4.6).
    public static func parse(_ text: String) throws(SPFError) -> SPFRecord {
        guard text.utf8.count <= maximumLength else { throw SPFError("the record is longer than \(maximumLength) bytes") }
        guard isSPF(text) else { throw SPFError("the record does not start with v=spf1") }
        guard text.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { throw SPFError("the record contains characters other than printable ASCII") }
        var directives: [Directive] = []
        var redirect: SPFMacroString?
        var explanation: SPFMacroString?
        for term in text.dropFirst(6).split(separator: " ") {
            let term = String(term)
            var rest = Substring(term)
            var qualifier = Qualifier.pass
            if let first = rest.first, let explicit = Qualifier(rawValue: first) {
                qualifier = explicit
                rest = rest.dropFirst()
            }
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
            let after = rest.dropFirst(name.count)
            guard let initial = name.first, initial.isASCII, initial.isLetter else { throw SPFError("\"\(term.prefix(60))\" is not a term") }
            if after.first == "=" {
                guard qualifier == .pass, term.first != "+" else { throw SPFError("modifier \"\(term.prefix(60))\" has a qualifier") }
                let value = try SPFMacroString(String(after.dropFirst()))
                switch name.lowercased() {
                case "redirect":
                    guard redirect == nil else { throw SPFError("redirect appears more than once") }
                    try value.checkDomainSpec(term)
                    redirect = value
                case "exp":
                    guard explanation == nil else { throw SPFError("exp appears more than once") }
                    try value.checkDomainSpec(term)
                    explanation = value
                default:
                    break  // unknown modifiers are ignored (§6)
                }
                continue
            }
            directives.append(Directive(qualifier: qualifier, mechanism: try mechanism(name.lowercased(), String(after), term: term), text: term))
        }
        return SPFRecord(directives: directives, redirect: redirect, explanation: explanation)
    }

    private static func mechanism(_ name: String, _ argument: String, term: String) throws(SPFError) -> Mechanism {
        func domainSpec(_ text: Substring) throws(SPFError) -> SPFMacroString {
            guard text.first == ":", text.count > 1 else { throw SPFError("\"\(term.prefix(60))\" needs :domain") }
            let spec = try SPFMacroString(String(text.dropFirst()))
            try spec.checkDomainSpec(term)
            return spec
        }
        switch name {
        case "all":
            guard argument.isEmpty else { throw SPFError("\"\(term.prefix(60))\": all takes no argument") }
            return .all
        case "include":
            return .include(try domainSpec(Substring(argument)))
        case "exists":
            return .exists(try domainSpec(Substring(argument)))
        case "ptr":
            return .ptr(argument.isEmpty ? nil : try domainSpec(Substring(argument)))
        case "a", "mx":
            let (spec, v4, v6) = try dualCIDR(argument, term: term)
            let target = spec.isEmpty ? nil : try domainSpec(spec)
            return name == "a" ? .a(target, v4: v4, v6: v6) : .mx(target, v4: v4, v6: v6)
        case "ip4", "ip6":
            guard argument.first == ":" else { throw SPFError("\"\(term.prefix(60))\" needs :network") }
            let value = argument.dropFirst()
            let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let maximum = name == "ip4" ? 32 : 128
            let prefix = parts.count == 2 ? try cidr(parts[1], maximum: maximum, term: term) : maximum
            guard let address = IPAddress(String(parts[0])), address.isIPv6 == (name == "ip6"),
                  name == "ip6" || parts[0].split(separator: ".").allSatisfy({ $0 == "0" || $0.first != "0" }) else {
                throw SPFError("\"\(term.prefix(60))\" is not an \(name == "ip4" ? "IPv4" : "IPv6") network")
            }
            return name == "ip4" ? .ip4(address.bytes, prefix: prefix) : .ip6(address.bytes, prefix: prefix)
        default:
            throw SPFError("unknown mechanism \"\(name.prefix(40))\"")
        }
    }

    /// Splits `[":" domain-spec] [ "/" ip4-cidr ] [ "//" ip6-cidr ]` at its end.
    private static func dualCIDR(_ argument: String, term: String) throws(SPFError) -> (Substring, Int, Int) {
        var rest = Substring(argument)
        var v4 = 32, v6 = 128
        if let range = rest.range(of: "//", options: .backwards) , rest[range.upperBound...].allSatisfy(\.isNumber) {
            v6 = try cidr(rest[range.upperBound...], maximum: 128, term: term)
            rest = rest[..<range.lowerBound]
        }
        if let slash = rest.lastIndex(of: "/"), rest[rest.index(after: slash)...].allSatisfy(\.isNumber) {
            v4 = try cidr(rest[rest.index(after: slash)...], maximum: 32, term: term)
            rest = rest[..<slash]
        }
        return (rest, v4, v6)
    }

    private static func cidr(_ text: Substring, maximum: Int, term: String) throws(SPFError) -> Int {
        guard (1...3).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }), text == "0" || text.first != "0",
              let value = Int(text), value <= maximum else {
            throw SPFError("\"\(term.prefix(60))\" has an invalid prefix length")
        }
        return value
    }
}

/// Why an SPF record or evaluation is a permerror; the message names the term.
public struct SPFError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
