import Foundation
import Testing
@testable import TLSReporting

/// The two media types of RFC 8460 §5.3, with both sizes bounded: a gzip bomb stops at the limit.
@Suite("TLS report payloads")
struct TLSReportPayloadTests {
    let limits = TLSReportPayload.Limits(compressed: 64 * 1024, json: 1024 * 1024)

    @Test("Media types: the two RFC 8460 registers, parameters and case ignored; nothing else")
    func mediaTypes() {
        #expect(TLSReportPayload.Format(mediaType: "application/tlsrpt+gzip") == .gzip)
        #expect(TLSReportPayload.Format(mediaType: "Application/TLSRPT+JSON; charset=utf-8") == .json)
        for other in ["application/json", "application/gzip", "text/plain", ""] {
            #expect(TLSReportPayload.Format(mediaType: other) == nil, "\(other)")
        }
    }

    @Test("A gzipped report decompresses; a JSON report is taken as it is, or decompressed if it is gzip after all")
    func decoding() throws {
        let json = try ReportFixtures.rfcExample()
        let gzipped = try ReportFixtures.gzip(json)
        #expect(try TLSReportPayload(format: .gzip, bytes: gzipped).json(limits: limits) == json)
        #expect(try TLSReportPayload(format: .json, bytes: json).json(limits: limits) == json)
        #expect(try TLSReportPayload(format: .json, bytes: gzipped).json(limits: limits) == json)
    }

    @Test("What tlsrpt-reporter POSTed (a real generator's gzip) decodes and parses")
    func realGenerator() throws {
        let report = try TLSReport.parse(json: TLSReportPayload(format: .gzip, bytes: ReportFixtures.bytes("tlsrpt-reporter-post.json.gz")).json(limits: limits))
        #expect(report.organizationName == "Example Sender Org")
        #expect(report.policies.map(\.policyType) == [.sts])
        #expect(report.failedSessions == 3 && report.successfulSessions == 3)
        #expect(Set(report.policies[0].failureDetails.map(\.resultType)) == ["validation-failure", "sts-webpki-invalid"])
    }

    @Test("A gzip bomb (20 MiB of spaces in 20 KiB) stops at the report limit")
    func gzipBomb() throws {
        let bomb = try ReportFixtures.gzip([UInt8](repeating: 0x20, count: 20 * 1024 * 1024))
        #expect(bomb.count < limits.compressed)
        let error = #expect(throws: TLSReportError.self) { try TLSReportPayload(format: .gzip, bytes: bomb).json(limits: limits) }
        #expect(error?.kind == .tooLarge)
        #expect(error?.message.contains("decompresses to more than 1048576 bytes") == true)
    }

    @Test("Over either limit, not gzip although labelled so, truncated or corrupt gzip: each refused with its reason")
    func refused() throws {
        let json = try ReportFixtures.rfcExample()
        let gzipped = try ReportFixtures.gzip(json)
        let small = TLSReportPayload.Limits(compressed: 100, json: 1000)
        let cases: [(TLSReportPayload, TLSReportPayload.Limits, TLSReportError.Kind)] = [
            (TLSReportPayload(format: .gzip, bytes: gzipped), small, .tooLarge),
            (TLSReportPayload(format: .json, bytes: json), small, .tooLarge),
            (TLSReportPayload(format: .gzip, bytes: json), limits, .badCompression),
            (TLSReportPayload(format: .gzip, bytes: Array(gzipped.prefix(gzipped.count / 2))), limits, .badCompression),
            (TLSReportPayload(format: .gzip, bytes: Array(gzipped.prefix(10)) + [UInt8](repeating: 0xFF, count: 64)), limits, .badCompression),
            // Found by the fuzzer: a gzip header cut short of a trailer.
            (TLSReportPayload(format: .gzip, bytes: [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00]), limits, .badCompression),
            (TLSReportPayload(format: .gzip, bytes: gzipped + [0x00]), limits, .badCompression),
        ]
        for (index, (payload, limits, kind)) in cases.enumerated() {
            let error = #expect(throws: TLSReportError.self, "case \(index)") { try payload.json(limits: limits) }
            #expect(error?.kind == kind, "case \(index): \(error?.message ?? "")")
        }
    }
}
