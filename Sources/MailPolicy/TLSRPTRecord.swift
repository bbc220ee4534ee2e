import Core

/// A domain's `_smtp._tls` TXT record (RFC 8460 §3): `v=TLSRPTv1; rua=…` with one or more report
/// destinations, `mailto:` or `https:`. What `platformctl doctor` checks of our own domains, and what a
/// sender reads to know where reports go.
public struct TLSRPTRecord: Sendable, Equatable {
    /// The `rua` destinations in order.
    public let destinations: [Destination]
    /// Extension fields (`name=value`); none is defined.
    public let extensions: [String: String]

    /// One `rua` URI.
    public enum Destination: Sendable, Equatable, CustomStringConvertible {
        /// `mailto:` and its address.
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
            let address = String(uri.dropFirst("mailto:".count))
            guard (try? EmailAddress(address)) != nil else { throw MTASTSError("rua \(uri.prefix(80)): \(address.prefix(80)) is not a mail address") }
            return .mail(address)
        }
        if lower.hasPrefix("https://") {
            let rest = uri.dropFirst("https://".count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let host = authority.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            guard (try? DomainName(host)) != nil else { throw MTASTSError("rua \(uri.prefix(80)): \"\(host.prefix(80))\" is not a host name") }
            return .https(uri)
        }
        throw MTASTSError("rua \"\(uri.prefix(80))\" is neither mailto: nor https: (RFC 8460 allows only these two)")
    }
}
