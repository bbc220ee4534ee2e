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
        // Records whose first field is not v=STSv1 are discarded (whitespace may surround ";": the ABNF's
        // sts-field-delim).
        let candidates = records.filter { $0.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first?.trimmingWhitespace() == "v=STSv1" }
        switch candidates.count {
        case 0: return .none
        case 1:
            do { return .record(try parse(candidates[0])) } catch { return .unusable(error.description) }
        default: return .unusable("\(candidates.count) TXT records start with v=STSv1; exactly one may")
        }
    }

    /// Parses one record: `sts-version 1*(sts-field-delim sts-field) [sts-field-delim]`, the delimiter `;`
    /// with optional whitespace around it, exactly one `id`.
    public static func parse(_ text: String) throws(MTASTSError) -> MTASTSRecord {
        guard text.utf8.count <= 1_024 else { throw MTASTSError("the TXT record is longer than 1024 bytes") }
        var fields = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        if fields.last == "" { fields.removeLast() }  // the optional trailing delimiter
        guard fields.first == "v=STSv1" else { throw MTASTSError("the record does not start with v=STSv1") }
        var id: String?
        var extensions: [String: String] = [:]
        for field in fields.dropFirst() {
            guard let equals = field.firstIndex(of: "=") else { throw MTASTSError("field \"\(field.prefix(40))\" has no \"=\"") }
            let name = String(field[..<equals])
            let value = String(field[field.index(after: equals)...])
            if name == "id" {
                guard id == nil else { throw MTASTSError("the record has more than one id") }
                guard (1...32).contains(value.utf8.count), value.utf8.allSatisfy(Self.isAlphanumeric) else {
                    throw MTASTSError("id \"\(value.prefix(40))\" is not 1 to 32 letters and digits")
                }
                id = value
            } else {
                guard Self.isExtensionName(name) else { throw MTASTSError("\"\(name.prefix(40))\" is not a field name") }
                guard !value.isEmpty, value.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: "=") }) else {
                    throw MTASTSError("field \(name) has an invalid value")
                }
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
