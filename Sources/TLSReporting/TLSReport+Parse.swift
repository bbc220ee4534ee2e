import Core
import DNS
import Foundation

extension TLSReport {
    /// Limits on one report beyond its byte size, so that a small document cannot make the aggregation
    /// do unbounded work.
    public static let maxPolicies = 1_000
    public static let maxFailureDetails = 10_000
    static let maxFieldLength = 1_024
    static let maxPolicyStringLength = 65_536

    /// Reads a report's JSON (RFC 8460 §4.4) strictly: every required member present with its type,
    /// `policies` and `failure-details` arrays, counts non-negative integers, dates RFC 3339 date-times,
    /// `policy-type` one of the three the RFC defines, `policy-domain` a domain name. Members the RFC
    /// does not define are ignored (the format is extensible). The error names the member at fault by
    /// its path, e.g. `policies[0].summary.total-failure-session-count`.
    public static func parse(json bytes: some Collection<UInt8>) throws(TLSReportError) -> TLSReport {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw TLSReportError(.invalid, "not JSON: \(Self.jsonProblem(error))")
        }
        let reader = Reader(value: root, path: "report")
        let report = try reader.object { report throws(TLSReportError) in
            let range = try report.member("date-range").object { range throws(TLSReportError) in
                DateRange(start: try range.member("start-datetime").dateTime(), end: try range.member("end-datetime").dateTime())
            }
            guard range.end >= range.start else { throw .schema("report.date-range", "end-datetime is before start-datetime") }
            let policies = try report.member("policies").array(max: maxPolicies) { policy throws(TLSReportError) in try Self.policyResult(&policy) }
            guard !policies.isEmpty else { throw .schema("report.policies", "is empty: a report covers at least one policy") }
            return TLSReport(
                organizationName: try report.member("organization-name").string(nonEmpty: true),
                dateRange: range,
                // Some senders leave it out or send null (seen from large providers): kept as empty.
                contactInfo: try report.optionalMember("contact-info")?.string(nonEmpty: false) ?? "",
                reportID: try report.member("report-id").string(nonEmpty: true),
                policies: policies)
        }
        let details = report.policies.reduce(0) { $0 + $1.failureDetails.count }
        guard details <= maxFailureDetails else {
            throw .schema("report.policies", "\(details) failure-details in all; at most \(maxFailureDetails) are accepted")
        }
        return report
    }

    private static func policyResult(_ entry: inout Reader) throws(TLSReportError) -> PolicyResult {
        try entry.object { entry throws(TLSReportError) in
            var result = try entry.member("policy").object { policy throws(TLSReportError) -> PolicyResult in
                let typeReader = try policy.member("policy-type")
                let typeName = try typeReader.string(nonEmpty: true)
                guard let type = PolicyType(rawValue: typeName) else {
                    throw .schema(typeReader.path, "\"\(typeName.prefix(40))\" is not tlsa, sts or no-policy-found")
                }
                let domainReader = try policy.member("policy-domain")
                let domain = try domainReader.domainName()
                let strings = try policy.optionalMember("policy-string")?.array(max: 1_000) { line throws(TLSReportError) in
                    try line.string(nonEmpty: false, max: maxPolicyStringLength)
                } ?? []
                // An array of patterns (RFC 8460 §4.4); the RFC's own example (erratum 6241) and some senders write one string.
                let mxReader = policy.optionalMember("mx-host")
                let mx: [String]
                if let mxReader, case .string = mxReader.value {
                    mx = [try mxReader.string(nonEmpty: true)]
                } else {
                    mx = try mxReader?.array(max: 1_000) { host throws(TLSReportError) in try host.string(nonEmpty: true) } ?? []
                }
                return PolicyResult(policyType: type, policyString: strings, policyDomain: domain, mxHosts: mx,
                                    successfulSessions: 0, failedSessions: 0, failureDetails: [])
            }
            try entry.member("summary").object { summary throws(TLSReportError) in
                result.successfulSessions = try summary.member("total-successful-session-count").count()
                result.failedSessions = try summary.member("total-failure-session-count").count()
            }
            result.failureDetails = try entry.optionalMember("failure-details")?.array(max: maxFailureDetails) { detail throws(TLSReportError) in
                try detail.object { detail throws(TLSReportError) in
                    let typeReader = try detail.member("result-type")
                    let type = try typeReader.string(nonEmpty: true, max: 64)
                    guard type.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
                        throw .schema(typeReader.path, "\"\(type.prefix(40))\" is not a result type (lower-case letters, digits and hyphens)")
                    }
                    return FailureDetail(
                        resultType: type,
                        sendingMTAIP: try detail.optionalMember("sending-mta-ip")?.ipAddress(),
                        receivingMXHostname: try detail.optionalMember("receiving-mx-hostname")?.string(nonEmpty: false).nonEmpty,
                        receivingMXHelo: try detail.optionalMember("receiving-mx-helo")?.string(nonEmpty: false).nonEmpty,
                        receivingIP: try detail.optionalMember("receiving-ip")?.ipAddress(),
                        failedSessions: try detail.member("failed-session-count").count(),
                        additionalInformation: try detail.optionalMember("additional-information")?.freeText(),
                        failureReasonCode: try detail.optionalMember("failure-reason-code")?.freeText())
                }
            } ?? []
            return result
        }
    }

    private static func jsonProblem(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError.map { "\($0)" } ?? context.debugDescription).prefix(200).description
        }
        return "\(error)".prefix(200).description
    }
}

/// Walks a JSON value, knowing its path for error messages.
private struct Reader {
    let value: JSONValue
    let path: String
    private var members: [String: JSONValue] = [:]

    init(value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    func object<T>(_ body: (inout Reader) throws(TLSReportError) -> T) throws(TLSReportError) -> T {
        guard case .object(let members) = value else { throw .schema(path, "is \(value.kind), not an object") }
        var reader = self
        reader.members = members
        return try body(&reader)
    }

    func member(_ name: String) throws(TLSReportError) -> Reader {
        guard let value = members[name] else { throw .schema(path, "the required member \"\(name)\" is missing") }
        return Reader(value: value, path: "\(path).\(name)")
    }

    /// A member that may be absent (null counts as absent).
    func optionalMember(_ name: String) -> Reader? {
        guard let value = members[name], value != .null else { return nil }
        return Reader(value: value, path: "\(path).\(name)")
    }

    func array<T>(max: Int, _ element: (inout Reader) throws(TLSReportError) -> T) throws(TLSReportError) -> [T] {
        guard case .array(let values) = value else { throw .schema(path, "is \(value.kind), not an array") }
        guard values.count <= max else { throw .schema(path, "has \(values.count) elements; at most \(max) are accepted") }
        var result: [T] = []
        result.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            var reader = Reader(value: value, path: "\(path)[\(index)]")
            result.append(try element(&reader))
        }
        return result
    }

    func string(nonEmpty: Bool, max: Int = TLSReport.maxFieldLength) throws(TLSReportError) -> String {
        guard case .string(let text) = value else { throw .schema(path, "is \(value.kind), not a string") }
        if nonEmpty && text.isEmpty { throw .schema(path, "is empty") }
        // PostgreSQL's jsonb and text hold no NUL; no field of a report has a use for one.
        guard !text.utf8.contains(0) else { throw .schema(path, "contains a NUL character") }
        guard text.utf8.count <= max else { throw .schema(path, "is longer than \(max) bytes") }
        return text
    }

    /// A session count: a non-negative integer.
    func count() throws(TLSReportError) -> Int64 {
        guard case .integer(let number) = value else { throw .schema(path, "is \(value.kind), not an integer") }
        guard number >= 0 else { throw .schema(path, "is negative") }
        // Far above any real day's sessions at one domain; sums are saturated besides.
        guard number <= 1_000_000_000 else { throw .schema(path, "is \(number), more sessions than a report can plausibly count") }
        return number
    }

    func dateTime() throws(TLSReportError) -> Date {
        let text = try string(nonEmpty: true, max: 64)
        guard let date = RFC3339.parse(text) else { throw .schema(path, "\"\(text)\" is not an RFC 3339 date-time") }
        // Reports are about days since TLSRPT exists; a year outside 2000 to 9999 is an error, not a report.
        guard date >= Date(timeIntervalSince1970: 946_684_800), date < Date(timeIntervalSince1970: 253_402_300_800) else {
            throw .schema(path, "\"\(text)\" is not a date a report can be about")
        }
        // Whole seconds: what is stored, and what a day's report needs.
        return Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    func domainName() throws(TLSReportError) -> DomainName {
        var text = try string(nonEmpty: true, max: 254)
        if text.hasSuffix(".") { text.removeLast() }
        do {
            return try DomainName(text)
        } catch {
            throw .schema(path, "\"\(text.prefix(80))\" is not a domain name: \(error)")
        }
    }

    /// Free text (a URI, an error message): a string, cut to `TLSReport.maxFieldLength` bytes rather than
    /// refused, since nothing depends on it; nil when empty.
    func freeText() throws(TLSReportError) -> String? {
        var text = try string(nonEmpty: false, max: .max)
        if text.utf8.count > TLSReport.maxFieldLength {
            // Cut between characters, never inside one.
            var length = 0
            text = String(String.UnicodeScalarView(text.unicodeScalars.prefix { scalar in
                length += String(scalar).utf8.count
                return length <= TLSReport.maxFieldLength
            }))
        }
        return text.nonEmpty
    }

    /// An IPv4 or IPv6 address in its text form; nil when empty (some reporters write "" for unknown).
    func ipAddress() throws(TLSReportError) -> String? {
        let text = try string(nonEmpty: false, max: 64)
        guard !text.isEmpty else { return nil }
        guard IPAddress(text) != nil else {
            throw .schema(path, "\"\(text)\" is not an IP address")
        }
        return text
    }
}

extension String {
    /// Nil for the empty string.
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
