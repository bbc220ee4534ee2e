import Core
import Foundation

/// One WKD request, read from its Host and path: which method of the draft, which domain, what is asked.
/// Everything that is not a well-formed WKD request of a served domain gets the same plain 404.
public enum WKDRequest: Equatable, Sendable {
    /// `hu/<hash>` of `domain`, by the advanced or the direct method.
    case key(domain: String, hash: String)
    /// The policy file of `domain`.
    case policy(domain: String)

    static let prefix = "/.well-known/openpgpkey/"
    static let zBase32 = Set("ybndrfg8ejkmcpqxot1uwisza345h769".utf8)

    /// Reads `path` (without the query: `?l=` is ignored, requests are matched by hash) asked of `host`
    /// (the Host header, any port removed, any case). The advanced method is
    /// `Host: openpgpkey.<domain>` with `/.well-known/openpgpkey/<domain>/hu/<hash>`; the direct method
    /// `Host: <domain>` with `/.well-known/openpgpkey/hu/<hash>`; the policy files sit beside `hu/`.
    public init?(host rawHost: String, path: String) {
        guard path.hasPrefix(Self.prefix), let host = Self.domain(Self.hostName(rawHost)) else { return nil }
        let rest = path.dropFirst(Self.prefix.count)
        // Clients send lower case; anything else is lower-cased first.
        let lower = rest.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) ? Substring(rest.lowercased()) : rest
        let parts = lower.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // The advanced method's path names the mail domain: a client may write it as a U-label,
        // percent-encoded, or with a trailing dot, so both sides are compared as A-labels.
        func advanced(_ segment: String) -> String? {
            guard let domain = segment.removingPercentEncoding.flatMap(Self.domain), host == "openpgpkey." + domain else { return nil }
            return domain
        }
        switch parts.count {
        case 1 where parts[0] == "policy":
            self = .policy(domain: host)
        case 2 where parts[0] == "hu":
            guard let hash = Self.hash(parts[1]) else { return nil }
            self = .key(domain: host, hash: hash)
        case 2 where parts[1] == "policy":
            guard let domain = advanced(parts[0]) else { return nil }
            self = .policy(domain: domain)
        case 3 where parts[1] == "hu":
            guard let domain = advanced(parts[0]), let hash = Self.hash(parts[2]) else { return nil }
            self = .key(domain: domain, hash: hash)
        default:
            return nil
        }
    }

    /// A WKD hash: 32 characters of z-base-32.
    static func hash(_ text: String) -> String? {
        text.utf8.count == 32 && text.utf8.allSatisfy(zBase32.contains) ? text : nil
    }

    /// A domain name as the tables hold it (A-label, lower case), nil if it is not one. Names already in
    /// that form (lower-case letters, digits, hyphens, single dots) skip the full IDNA check.
    static func domain(_ text: String) -> String? {
        if isPlainALabelForm(text) { return text }
        return (try? DomainName(text))?.ascii
    }

    static func isPlainALabelForm(_ text: String) -> Bool {
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): break
            case UInt8(ascii: ".") where previous != UInt8(ascii: "."): break
            default: return false
            }
            previous = byte
        }
        // A-labels ("xn--") take the full check: they must be valid Punycode.
        return !text.isEmpty && previous != UInt8(ascii: ".") && text.utf8.count <= 253 && text.utf8.first != UInt8(ascii: "-")
            && !Self.containsALabel(text)
    }

    /// Whether a label starts with "xn--".
    static func containsALabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 4 else { return false }
        for index in 0...(bytes.count - 4) where bytes[index] == UInt8(ascii: "x") && bytes[index + 1] == UInt8(ascii: "n")
            && bytes[index + 2] == UInt8(ascii: "-") && bytes[index + 3] == UInt8(ascii: "-") && (index == 0 || bytes[index - 1] == UInt8(ascii: ".")) {
            return true
        }
        return false
    }

    /// The host name of a Host header: lower case, without a port or a trailing dot.
    static func hostName(_ header: String) -> String {
        var host = Substring(header.lowercased())
        if host.hasPrefix("[") { return String(host) }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if host.hasSuffix(".") { host = host.dropLast() }
        return String(host)
    }
}
