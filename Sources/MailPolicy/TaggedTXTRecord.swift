/// What MTA-STS (`_mta-sts`, RFC 8461 §3.1) and TLSRPT (`_smtp._tls`, RFC 8460 §3) records share: a
/// version field first, then `name=value` fields separated by `;` with optional white space around it,
/// extension fields named `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`; and the rule that of a
/// TXT answer only the records starting with the version count, and exactly one may.
enum TaggedTXTRecord {
    /// The records of `records` (each with its strings joined) that start with `version`; `parse` reads
    /// the one there should be.
    static func discover<Record>(_ records: [String], version: String, _ parse: (String) throws(MTASTSError) -> Record)
        -> (found: Record?, problem: String?) {
        let candidates = records.filter { $0.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first?.trimmingWhitespace() == version }
        switch candidates.count {
        case 0: return (nil, nil)
        case 1:
            do { return (try parse(candidates[0]), nil) } catch { return (nil, error.description) }
        default: return (nil, "\(candidates.count) TXT records start with \(version); exactly one may")
        }
    }

    /// The fields after `version`, in order; extension fields (names not in `known`) checked here.
    static func fields(_ text: String, version: String, maxLength: Int, known: Set<String>) throws(MTASTSError) -> [(name: String, value: String)] {
        guard text.utf8.count <= maxLength else { throw MTASTSError("the TXT record is longer than \(maxLength) bytes") }
        var fields = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        if fields.last == "" { fields.removeLast() }  // the optional trailing delimiter
        guard fields.first == version else { throw MTASTSError("the record does not start with \(version)") }
        var result: [(name: String, value: String)] = []
        for field in fields.dropFirst() {
            guard let equals = field.firstIndex(of: "=") else { throw MTASTSError("field \"\(field.prefix(40))\" has no \"=\"") }
            let name = String(field[..<equals])
            let value = String(field[field.index(after: equals)...])
            if !known.contains(name) {
                guard MTASTSRecord.isExtensionName(name) else { throw MTASTSError("\"\(name.prefix(40))\" is not a field name") }
                guard !value.isEmpty, value.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: "=") }) else {
                    throw MTASTSError("field \(name) has an invalid value")
                }
            }
            result.append((name, value))
        }
        return result
    }
}
