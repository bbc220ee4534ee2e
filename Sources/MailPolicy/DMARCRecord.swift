import Core

/// A domain's `_dmarc` TXT record (RFC 7489 §6.3, with the tags RFC 9989 adds): the policy a domain
/// owner asks receivers to apply to mail that fails DMARC, and where aggregate and failure reports go.
/// What checking our own domains' records needs, and what enforcing senders' policies will read.
public struct DMARCRecord: Sendable, Equatable {
    public enum Policy: String, Sendable, Equatable { case none, quarantine, reject }
    public enum Alignment: String, Sendable, Equatable { case relaxed = "r", strict = "s" }

    /// `p`: nil when the record has none (RFC 7489 §6.6.3 then treats a record with a valid `rua` as
    /// `p=none`; without one the record is unusable).
    public let policy: Policy?
    /// `sp`: for subdomains; nil means `p` applies.
    public let subdomainPolicy: Policy?
    /// `np` (RFC 9989): for subdomains that do not exist; nil means `sp`, then `p`, applies.
    public let nonexistentPolicy: Policy?
    public let dkimAlignment: Alignment
    public let spfAlignment: Alignment
    /// `pct` (RFC 7489 only; RFC 9989 drops it): 0–100, default 100.
    public let percent: Int
    /// `t=y` (RFC 9989): test mode, apply one step less than the policy.
    public let testing: Bool
    /// `psd` (RFC 9989): y, n or u (the default).
    public let publicSuffixDomain: String
    /// `rua` and `ruf`: report URIs, each with its optional `!size` removed.
    public let aggregateReports: [String]
    public let failureReports: [String]
    /// `fo`: failure reporting options (0, 1, d, s).
    public let failureOptions: [String]
    /// `ri`: seconds between aggregate reports, default 86400.
    public let reportInterval: Int

    /// Longest record read; real ones are under 300 bytes.
    public static let maximumLength = 2_048

    /// What a domain's TXT records at `_dmarc.<domain>` say.
    public enum Discovery: Sendable, Equatable {
        case record(DMARCRecord)
        /// No record starts with `v=DMARC1`.
        case none
        /// Several do: then none applies (RFC 7489 §6.6.3, RFC 9989 §4.10.1).
        case several(Int)
        /// The one that does is malformed: no DMARC processing applies, and the result is permerror (RFC 8601 §2.7.7).
        case malformed(String)

        /// Why no record applies, for the several and malformed cases.
        public var problem: String? {
            switch self {
            case .record, .none: nil
            case .several(let count): "\(count) TXT records start with v=DMARC1; when there are several, none applies"
            case .malformed(let reason): reason
            }
        }
    }

    /// The records of one TXT answer, each with its strings joined: only those starting with `v=DMARC1` count.
    /// `asReceiver`: read as a receiver applying the policy must (see `parse`); otherwise strictly, as our own
    /// records are checked, so that every mistake is named.
    public static func discover(_ records: [String], asReceiver: Bool = false, knowsNP: Bool = true) -> Discovery {
        let candidates = records.filter { record in
            guard let first = record.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first,
                  let equals = first.firstIndex(of: "=") else { return false }
            return first[..<equals].trimmingWhitespace().lowercased() == "v" && first[first.index(after: equals)...].trimmingWhitespace() == "DMARC1"
        }
        switch candidates.count {
        case 0: return .none
        case 1:
            do { return .record(try parse(candidates[0], asReceiver: asReceiver, knowsNP: knowsNP)) } catch { return .malformed(error.description) }
        default: return .several(candidates.count)
        }
    }

    /// Parses one record: `v=DMARC1` first, then `tag=value` pairs separated by `;`, white space allowed
    /// around `=` and `;`. A known tag with an invalid value, or a repeated tag, is an error naming it;
    /// unknown tags are ignored (RFC 7489 §6.3).
    /// `asReceiver`: as a receiver reads a sender's record (RFC 7489 §6.3 and §6.6.3 step 6, RFC 9989 §4.10.1):
    /// a mistake outside `v` and the policy tags falls back to the tag's default (an invalid URI is dropped,
    /// a repeated tag's first value counts), so that one typo cannot switch a policy off; a missing or invalid
    /// `p`, or an invalid `sp` or `np`, makes the record `p=none` when a valid `rua` remains, and otherwise a
    /// missing `p` leaves no policy and an invalid one is an error. `knowsNP: false` (RFC 7489) ignores `np`.
    /// Otherwise every mistake is an error naming the tag.
    public static func parse(_ text: String, asReceiver: Bool = false, knowsNP: Bool = true) throws(DMARCRecordError) -> DMARCRecord {
        guard text.utf8.count <= maximumLength else { throw DMARCRecordError("the record is longer than \(maximumLength) bytes") }
        guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else { throw DMARCRecordError("the record contains control characters") }
        var parts = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        if parts.last == "" { parts.removeLast() }
        var tags: [String: String] = [:]
        for (index, part) in parts.enumerated() {
            guard let equals = part.firstIndex(of: "=") else {
                if asReceiver, index > 0 { continue }
                throw DMARCRecordError("\"\(part.prefix(40))\" is not tag=value")
            }
            // ABNF's quoted strings are case-insensitive (RFC 5234 §2.3): tag names and keyword values;
            // only "DMARC1" is spelled with %x codes, so case-sensitive.
            let name = part[..<equals].trimmingWhitespace().lowercased()
            let value = part[part.index(after: equals)...].trimmingWhitespace()
            guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII,
                  name.utf8.allSatisfy({ $0 < 0x80 && ($0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)) }) else {
                if asReceiver, index > 0 { continue }
                throw DMARCRecordError("\"\(name.prefix(40))\" is not a tag name")
            }
            if index == 0 {
                guard name == "v", value == "DMARC1" else { throw DMARCRecordError("the record does not start with v=DMARC1") }
                continue
            }
            guard tags[name] == nil else {
                if asReceiver { continue }
                throw DMARCRecordError("tag \(name) appears more than once")
            }
            tags[name] = value
        }
        guard !parts.isEmpty else { throw DMARCRecordError("the record is empty") }

        /// A tag's value, or its default when a receiver meets a mistake in it.
        func lenient<T>(_ fallback: T, _ read: () throws(DMARCRecordError) -> T) throws(DMARCRecordError) -> T {
            do { return try read() } catch { if asReceiver { return fallback }; throw error }
        }
        func policy(_ tag: String) throws(DMARCRecordError) -> Policy? {
            guard let value = tags[tag] else { return nil }
            guard let policy = Policy(rawValue: value.lowercased()) else { throw DMARCRecordError("\(tag)=\(value.prefix(40)) is not none, quarantine or reject") }
            return policy
        }
        func alignment(_ tag: String) throws(DMARCRecordError) -> Alignment {
            guard let value = tags[tag] else { return .relaxed }
            guard let alignment = Alignment(rawValue: value.lowercased()) else { throw DMARCRecordError("\(tag)=\(value.prefix(40)) is not r or s") }
            return alignment
        }
        func number(_ tag: String, default fallback: Int, range: ClosedRange<Int>) throws(DMARCRecordError) -> Int {
            guard let value = tags[tag] else { return fallback }
            guard (1...10).contains(value.utf8.count), value.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(value), range.contains(number) else {
                throw DMARCRecordError("\(tag)=\(value.prefix(40)) is not a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        func flag(_ tag: String, allowed: Set<String>, default fallback: String) throws(DMARCRecordError) -> String {
            guard let value = tags[tag] else { return fallback }
            guard allowed.contains(value.lowercased()) else { throw DMARCRecordError("\(tag)=\(value.prefix(40)) is not one of \(allowed.sorted().joined(separator: ", "))") }
            return value.lowercased()
        }
        func uris(_ tag: String) throws(DMARCRecordError) -> [String] {
            guard let value = tags[tag] else { return [] }
            var result: [String] = []
            for raw in value.split(separator: ",", omittingEmptySubsequences: false) {
                var uri = raw.trimmingWhitespace()
                // "!" size limit: 1*DIGIT and an optional unit.
                if let bang = uri.lastIndex(of: "!") {
                    let size = uri[uri.index(after: bang)...]
                    let digits = size.last.map { "kmgt".contains($0.lowercased()) } == true ? size.dropLast() : size[...]
                    guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                        if asReceiver { continue }
                        throw DMARCRecordError("\(tag): \"\(uri.prefix(60))\" has an invalid size limit")
                    }
                    uri = String(uri[..<bang])
                }
                guard let colon = uri.firstIndex(of: ":"), uri.startIndex < colon, uri.index(after: colon) < uri.endIndex,
                      uri[..<colon].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }),
                      !uri.contains(where: { $0 == " " || $0 == "\t" }) else {
                    if asReceiver { continue }
                    throw DMARCRecordError("\(tag): \"\(uri.prefix(60))\" is not a URI")
                }
                result.append(uri)
            }
            return result
        }

        var options = tags["fo"].map { $0.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingWhitespace().lowercased() } } ?? ["0"]
        if !options.allSatisfy({ ["0", "1", "d", "s"].contains($0) }) {
            guard asReceiver else { throw DMARCRecordError("fo=\(tags["fo"]!.prefix(40)) is not a list of 0, 1, d and s") }
            options = ["0"]
        }
        let aggregateReports = try uris("rua")
        if !knowsNP { tags["np"] = nil }
        var policies: (Policy?, Policy?, Policy?)
        if asReceiver {
            // RFC 7489 §6.6.3 step 6, RFC 9989 §4.10.1.
            let p = Result { () throws(DMARCRecordError) in try policy("p") }
            let sp = Result { () throws(DMARCRecordError) in try policy("sp") }
            let np = Result { () throws(DMARCRecordError) in try policy("np") }
            if case .success(let p?) = p, case .success(let sp) = sp, case .success(let np) = np {
                policies = (p, sp, np)
            } else if !aggregateReports.isEmpty {
                policies = (Policy.none, nil, nil)
            } else {
                for result in [p, sp, np] { if case .failure(let error) = result { throw error } }
                policies = (nil, nil, nil)  // no p and no rua: no policy
            }
        } else {
            policies = (try policy("p"), try policy("sp"), try policy("np"))
        }
        return DMARCRecord(
            policy: policies.0, subdomainPolicy: policies.1, nonexistentPolicy: policies.2,
            dkimAlignment: try lenient(.relaxed) { () throws(DMARCRecordError) in try alignment("adkim") },
            spfAlignment: try lenient(.relaxed) { () throws(DMARCRecordError) in try alignment("aspf") },
            percent: try lenient(100) { () throws(DMARCRecordError) in try number("pct", default: 100, range: 0...100) },
            testing: try lenient("n") { () throws(DMARCRecordError) in try flag("t", allowed: ["y", "n"], default: "n") } == "y",
            publicSuffixDomain: try lenient("u") { () throws(DMARCRecordError) in try flag("psd", allowed: ["y", "n", "u"], default: "u") },
            aggregateReports: aggregateReports, failureReports: try uris("ruf"), failureOptions: options,
            reportInterval: try lenient(86_400) { () throws(DMARCRecordError) in try number("ri", default: 86_400, range: 0...Int(UInt32.max)) }
        )
    }
}

/// Why a DMARC record cannot be used; the message names the tag.
public struct DMARCRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
