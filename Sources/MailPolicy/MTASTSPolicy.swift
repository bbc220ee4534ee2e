import Core

/// A domain's MTA-STS policy as fetched from `https://mta-sts.<domain>/.well-known/mta-sts.txt`
/// (RFC 8461 §3.2): the mode, the MX host patterns mail may go to, and how long it may be cached.
public struct MTASTSPolicy: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable { case enforce, testing, none }

    public let mode: Mode
    /// The allowed MX hosts, each a domain name or `*.` and a domain (one leftmost label).
    public let mx: [MXPattern]
    /// Seconds the policy may be cached from its fetch: at most `maximumAge` (one year).
    public let maxAge: Int

    /// RFC 8461 §3.2: "maximum value of 31557600".
    public static let maximumAge = 31_557_600
    /// RFC 8461 §3.3: senders limit the body they read to 64 KiB.
    public static let maximumSize = 64 * 1024

    public init(mode: Mode, mx: [MXPattern], maxAge: Int) {
        self.mode = mode
        self.mx = mx
        self.maxAge = maxAge
    }

    /// Parses a policy body: `key: value` lines ended by LF or CRLF, `version: STSv1` required, `mode`
    /// and `max_age` required, one or more `mx` unless the mode is `none`; unknown fields are ignored; of a
    /// repeated field other than `mx` only the first counts (RFC 8461 §3.2: "all entries except for the
    /// first SHALL be ignored"). A `max_age` over the maximum is taken as the maximum, as postfix-tlspol
    /// does (postfix-mta-sts-resolver refuses such a policy; the RFC only states the maximum).
    public static func parse(_ body: [UInt8]) throws(MTASTSError) -> MTASTSPolicy {
        guard body.count <= maximumSize else { throw MTASTSError("the policy is larger than \(maximumSize) bytes") }
        guard let text = String(validating: body, as: UTF8.self) else { throw MTASTSError("the policy is not UTF-8 text") }
        var version: String?
        var mode: Mode?
        var maxAge: Int?
        var patterns: [MXPattern] = []
        var seen: Set<String> = []
        // Lines end at LF, with or without CR before it (split on bytes: Swift reads CR LF as one character).
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            if line.utf8.last == UInt8(ascii: "\r") { line = Substring(line.utf8.dropLast()) }
            if line.trimmingWhitespace().isEmpty { continue }
            guard let colon = line.firstIndex(of: ":") else { throw MTASTSError("line \"\(line.prefix(60))\" is not \"key: value\"") }
            let key = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            guard MTASTSRecord.isExtensionName(key) else { throw MTASTSError("\"\(key.prefix(40))\" is not a field name") }
            if key != "mx", !seen.insert(key).inserted { continue }
            switch key {
            case "version":
                version = value
            case "mode":
                guard let parsed = Mode(rawValue: value) else { throw MTASTSError("mode \"\(value.prefix(40))\" is not enforce, testing or none") }
                mode = parsed
            case "max_age":
                guard (1...10).contains(value.utf8.count), value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                      let seconds = Int(value) else { throw MTASTSError("max_age \"\(value.prefix(40))\" is not 1 to 10 digits") }
                maxAge = min(seconds, maximumAge)
            case "mx":
                patterns.append(try MXPattern(value))
            default:
                continue  // unknown fields are ignored
            }
        }
        guard version == "STSv1" else {
            throw MTASTSError(version.map { "version \"\($0.prefix(40))\" is not STSv1" } ?? "the policy has no version")
        }
        guard let mode else { throw MTASTSError("the policy has no mode") }
        guard let maxAge else { throw MTASTSError("the policy has no max_age") }
        guard mode == .none || !patterns.isEmpty else { throw MTASTSError("a policy in mode \(mode.rawValue) names no mx") }
        return MTASTSPolicy(mode: mode, mx: patterns, maxAge: maxAge)
    }

    /// Whether `host` (an MX host name) is one the policy allows (RFC 8461 §4.1).
    public func allows(_ host: DomainName) -> Bool {
        mx.contains { $0.matches(host) }
    }
}

/// An `mx` pattern of a policy: a host name, or `*.` and a domain, which matches a name with exactly one
/// more label on the left (`*.example.com` matches `mx1.example.com`, not `example.com` nor
/// `a.b.example.com`). Compared as A-labels, without case or a trailing dot.
public struct MXPattern: Sendable, Equatable, Codable, CustomStringConvertible {
    public let isWildcard: Bool
    /// The name (for a wildcard, the domain after `*.`).
    public let domain: DomainName

    public init(_ text: String) throws(MTASTSError) {
        var name = text
        isWildcard = name.hasPrefix("*.")
        if isWildcard { name.removeFirst(2) }
        guard !name.isEmpty, !name.contains("*") else { throw MTASTSError("mx \"\(text.prefix(60))\" is not a host name or *.domain") }
        do { domain = try DomainName(name) } catch { throw MTASTSError("mx \"\(text.prefix(60))\": \(error)") }
    }

    public func matches(_ host: DomainName) -> Bool {
        matches(hostName: host.ascii)
    }

    /// As `matches(_:)`, for a host name already in A-label lower case (as DNS answers give MX hosts).
    public func matches(hostName name: String) -> Bool {
        guard isWildcard else { return name == domain.ascii }
        guard let dot = name.utf8.firstIndex(of: UInt8(ascii: ".")), dot != name.utf8.startIndex else { return false }
        return name.utf8[name.utf8.index(after: dot)...].elementsEqual(domain.ascii.utf8)
    }

    public var description: String { (isWildcard ? "*." : "") + domain.ascii }
}
