import Core
import Foundation

/// A domain's `_smtp._tls` TXT record (RFC 8460 §3): `v=TLSRPTv1; rua=…` with one or more report
/// destinations, `mailto:` or `https:`: what a sender reads to know where reports go, and what checking our
/// own domains' records needs.
public struct TLSRPTRecord: Sendable, Equatable {
    /// The `rua` destinations in order.
    public let destinations: [Destination]
    /// Extension fields (`name=value`); none is defined.
    public let extensions: [String: String]

    /// One `rua` URI.
    public enum Destination: Sendable, Equatable, CustomStringConvertible {
        /// `mailto:` and its (first) address.
        case mail(String)
        /// An `https:` URL.
        case https(String)

        public var description: String {
            switch self {
            case .mail(let address): "mailto:" + address
            case .https(let url): url
            }
        }
    }

    /// What a domain's TXT records at `_smtp._tls.<domain>` say.
    public enum Discovery: Sendable, Equatable {
        /// Exactly one record starts with `v=TLSRPTv1` and it is well-formed.
        case record(TLSRPTRecord)
        /// No record starts with `v=TLSRPTv1`: the domain asks for no reports.
        case none
        /// Several do, or the one that does is malformed: senders "MUST assume the recipient domain does not
        /// implement TLSRPT" (RFC 8460 §3).
        case unusable(String)
    }

    /// The records of one TXT answer, each with its strings joined without separator (RFC 8460 §3).
    public static func discover(_ records: [String]) -> Discovery {
        switch TaggedTXTRecord.discover(records, version: "v=TLSRPTv1", parse) {
        case (let record?, _): .record(record)
        case (nil, let problem?): .unusable(problem)
        case (nil, nil): .none
        }
    }

    /// Parses one record: `tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]`, exactly one `rua`
    /// whose URIs are comma-separated (white space allowed around commas), each `mailto:` or `https:`.
    public static func parse(_ text: String) throws(MTASTSError) -> TLSRPTRecord {
        var destinations: [Destination]?
        var extensions: [String: String] = [:]
        for (name, value) in try TaggedTXTRecord.fields(text, version: "v=TLSRPTv1", maxLength: 2_048, known: ["rua"]) {
            if name == "rua" {
                guard destinations == nil else { throw MTASTSError("the record has more than one rua") }
                destinations = try value.split(separator: ",", omittingEmptySubsequences: false).map { uri throws(MTASTSError) in
                    try Self.destination(uri.trimmingWhitespace())
                }
            } else {
                extensions[name] = value
            }
        }
        guard let destinations else { throw MTASTSError("the record has no rua") }
        return TLSRPTRecord(destinations: destinations, extensions: extensions)
    }

    static func destination(_ uri: String) throws(MTASTSError) -> Destination {
        // Commas, exclamation points and semicolons "MUST be encoded" in a rua URI; spaces are never part of one.
        guard !uri.isEmpty, uri.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "!") }) else {
            throw MTASTSError("rua \"\(uri.prefix(80))\" is not a URI")
        }
        let lower = uri.lowercased()
        if lower.hasPrefix("mailto:") {
            // RFC 6068: the addresses before any "?headers", comma-separated as %2C (a literal comma separates
            // rua URIs), each percent-encoded.
            let addresses = uri.dropFirst("mailto:".count).prefix { $0 != "?" }
            let decoded = addresses.replacingOccurrences(of: "%2C", with: ",", options: .caseInsensitive).split(separator: ",", omittingEmptySubsequences: false)
                .map { ($0.removingPercentEncoding ?? String($0)) }
            guard let first = decoded.first, decoded.allSatisfy({ (try? EmailAddress($0)) != nil }) else {
                throw MTASTSError("rua \(uri.prefix(80)): \(addresses.prefix(80)) is not a mail address")
            }
            return .mail(first)
        }
        if lower.hasPrefix("https://") {
            let rest = uri.dropFirst("https://".count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let host = parts.first.map(String.init) ?? ""
            guard (try? DomainName(host)) != nil else { throw MTASTSError("rua \(uri.prefix(80)): \"\(host.prefix(80))\" is not a host name") }
            if parts.count == 2 {
                guard let port = Int(parts[1]), (1...65535).contains(port) else { throw MTASTSError("rua \(uri.prefix(80)): \"\(parts[1].prefix(10))\" is not a port") }
            }
            return .https(uri)
        }
        throw MTASTSError("rua \"\(uri.prefix(80))\" is neither mailto: nor https: (RFC 8460 allows only these two)")
    }
}
