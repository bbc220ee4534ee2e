import Core

/// A domain's `_mta-sts` TXT record (RFC 8461 §3.1): `v=STSv1; id=…;` and any extension fields. Its `id`
/// changing is what tells a sender to fetch the policy again.
public struct MTASTSRecord: Sendable, Equatable {
    /// 1 to 32 letters and digits.
    public let id: String
    /// Extension fields in order (`name=value`), kept for logs; none is defined.
    public let extensions: [String: String]

    /// What a domain's TXT records at `_mta-sts.<domain>` say.
    public enum Discovery: Sendable, Equatable {
        /// Exactly one record starts with `v=STSv1` and it is well-formed.
        case record(MTASTSRecord)
        /// No record starts with `v=STSv1`: the domain publishes no policy.
        case none
        /// Several records start with `v=STSv1`, or the one that does is malformed: the RFC says to treat
        /// the domain as having no available policy (a cached one still applies until it expires).
        case unusable(String)
    }

    /// The records of one TXT answer, each with its character-strings already joined (RFC 7208 style: the
    /// strings of one record are concatenated without separator).
    public static func discover(_ records: [String]) -> Discovery {
        switch TaggedTXTRecord.discover(records, version: "v=STSv1", parse) {
        case (let record?, _): .record(record)
        case (nil, let problem?): .unusable(problem)
        case (nil, nil): .none
        }
    }

    /// Parses one record: `sts-version 1*(sts-field-delim sts-field) [sts-field-delim]`, the delimiter `;`
    /// with optional whitespace around it, exactly one `id`.
    public static func parse(_ text: String) throws(MTASTSError) -> MTASTSRecord {
        var id: String?
        var extensions: [String: String] = [:]
        for (name, value) in try TaggedTXTRecord.fields(text, version: "v=STSv1", maxLength: 1_024, known: ["id"]) {
            if name == "id" {
                guard id == nil else { throw MTASTSError("the record has more than one id") }
                guard (1...32).contains(value.utf8.count), value.utf8.allSatisfy(Self.isAlphanumeric) else {
                    throw MTASTSError("id \"\(value.prefix(40))\" is not 1 to 32 letters and digits")
                }
                id = value
            } else {
                extensions[name] = value
            }
        }
        guard let id else { throw MTASTSError("the record has no id") }
        return MTASTSRecord(id: id, extensions: extensions)
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`, for the record's and the policy's extensions.
    static func isExtensionName<S: StringProtocol>(_ name: S) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isAlphanumeric(first), bytes.count <= 32 else { return false }
        return bytes.dropFirst().allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }
}

/// Why an MTA-STS record or policy cannot be used; the message names what is wrong.
public struct MTASTSError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (RFC 5234 WSP).
    func trimmingWhitespace() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
