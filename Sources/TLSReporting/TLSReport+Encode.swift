import Core
import Foundation

/// A report written back as RFC 8460 JSON, with the RFC's member names: how it is stored (normalised:
/// `mx-host` always an array, dates in UTC, members the RFC does not define dropped), so that what is
/// stored always parses again.
extension TLSReport: Encodable {
    private enum Keys: String, CodingKey {
        case organizationName = "organization-name", dateRange = "date-range", contactInfo = "contact-info", reportID = "report-id", policies
        case start = "start-datetime", end = "end-datetime"
        case policy, summary, failureDetails = "failure-details"
        case policyType = "policy-type", policyString = "policy-string", policyDomain = "policy-domain", mxHost = "mx-host"
        case successful = "total-successful-session-count", failed = "total-failure-session-count"
        case resultType = "result-type", sendingMTAIP = "sending-mta-ip", receivingMXHostname = "receiving-mx-hostname"
        case receivingMXHelo = "receiving-mx-helo", receivingIP = "receiving-ip", failedSessionCount = "failed-session-count"
        case additionalInformation = "additional-information", failureReasonCode = "failure-reason-code"
    }

    public func encode(to encoder: any Encoder) throws {
        var report = encoder.container(keyedBy: Keys.self)
        try report.encode(organizationName, forKey: .organizationName)
        var range = report.nestedContainer(keyedBy: Keys.self, forKey: .dateRange)
        try range.encode(dateRange.start.formatted(.iso8601), forKey: .start)
        try range.encode(dateRange.end.formatted(.iso8601), forKey: .end)
        try report.encode(contactInfo, forKey: .contactInfo)
        try report.encode(reportID, forKey: .reportID)
        var list = report.nestedUnkeyedContainer(forKey: .policies)
        for result in policies {
            var entry = list.nestedContainer(keyedBy: Keys.self)
            var policy = entry.nestedContainer(keyedBy: Keys.self, forKey: .policy)
            try policy.encode(result.policyType.rawValue, forKey: .policyType)
            try policy.encode(result.policyString, forKey: .policyString)
            try policy.encode(result.policyDomain.ascii, forKey: .policyDomain)
            try policy.encode(result.mxHosts, forKey: .mxHost)
            var summary = entry.nestedContainer(keyedBy: Keys.self, forKey: .summary)
            try summary.encode(result.successfulSessions, forKey: .successful)
            try summary.encode(result.failedSessions, forKey: .failed)
            var details = entry.nestedUnkeyedContainer(forKey: .failureDetails)
            for detail in result.failureDetails {
                var item = details.nestedContainer(keyedBy: Keys.self)
                try item.encode(detail.resultType, forKey: .resultType)
                try item.encodeIfPresent(detail.sendingMTAIP, forKey: .sendingMTAIP)
                try item.encodeIfPresent(detail.receivingMXHostname, forKey: .receivingMXHostname)
                try item.encodeIfPresent(detail.receivingMXHelo, forKey: .receivingMXHelo)
                try item.encodeIfPresent(detail.receivingIP, forKey: .receivingIP)
                try item.encode(detail.failedSessions, forKey: .failedSessionCount)
                try item.encodeIfPresent(detail.additionalInformation, forKey: .additionalInformation)
                try item.encodeIfPresent(detail.failureReasonCode, forKey: .failureReasonCode)
            }
        }
    }

    /// The stored form's bytes.
    public func normalisedJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and arrays of them always encode.
        return Array(try! encoder.encode(self))
    }
}
