import Core
import CoreTestSupport
import Foundation
import Logging
import Synchronization
import Testing
@testable import TLSReporting

/// Reports stored once, refused when they are not about our domains, aggregated once by their job,
/// summarised for the operator; all as palisade_transport, against a real PostgreSQL.
@Suite("TLS report store and processing")
struct TLSReportStoreTests {
    static let limits = TLSReportPayload.Limits(compressed: 1024 * 1024, json: 4 * 1024 * 1024)

    struct Setup {
        let db: TestDatabase
        let transport: PostgresPool
        let intake: TLSReportIntake
        let logs: CapturedLogs

        func receive(_ json: [UInt8], origin: ReportOrigin = .https) async throws -> TLSReportIntake.Received {
            try await intake.receive(TLSReportPayload(format: .json, bytes: json), origin: origin)
        }

        /// Runs palisade-transport's handlers until no tlsrpt job is left to do.
        func process(alerting: TLSReportAlerting = TLSReportAlerting(failureRatio: 0.05, minimumSessions: 100)) async throws {
            let logger = Logger(label: "tlsrpt-test") { _ in logs }
            let worker = JobWorker(queue: TLSReportProcessJob.queue,
                                   handlers: [TLSReportProcessJob.kind: TLSReportProcessJob.handler(pool: transport, alerting: alerting, logger: logger)],
                                   jobs: JobQueue(pool: transport), wakeups: nil, options: .init(concurrency: 2, batchSize: 4, pollInterval: .milliseconds(50)),
                                   logger: db.logger)
            try await db.run([worker], until: "every report is processed") {
                try await db.count("SELECT count(*) FROM jobs WHERE kind = 'tlsrpt.process'") == 0
            }
        }
    }

    static func withSetup(_ body: (Setup) async throws -> Void) async throws {
        let db = try await TestDatabase.create()
        let transport = db.pool(as: "palisade_transport", maxConnections: 4)
        defer { transport.close(); db.pool.close() }
        try await db.pool.query("INSERT INTO domains (name, kind) VALUES ('mail.example', 'platform'), ('other.example', 'platform')")
        let logs = CapturedLogs()
        try await body(Setup(db: db, transport: transport, intake: TLSReportIntake(pool: transport, limits: limits, logger: db.logger), logs: logs))
    }

    @Test("A report is stored once per organisation and report-id, with one tlsrpt.process job; a duplicate changes nothing")
    func storedOnce() async throws {
        try await Self.withSetup { setup in
            let first = try await setup.receive(ReportFixtures.report(id: "r1", domain: "mail.example"))
            guard case .stored(let id) = first.stored else { Issue.record("not stored: \(first.stored)"); return }
            #expect(try await setup.db.count("SELECT count(*) FROM jobs WHERE kind = 'tlsrpt.process' AND payload->>'report' = '\(id)'") == 1)
            let again = try await setup.receive(ReportFixtures.report(id: "r1", domain: "mail.example", successful: 5))
            #expect(again.stored == .duplicate(id: id))
            // The same report-id from another organisation is another report (tlsrpt-reporter's ids repeat across installations).
            let other = try await setup.receive(ReportFixtures.report(id: "r1", organization: "Someone Else", domain: "mail.example"))
            guard case .stored = other.stored else { Issue.record("not stored: \(other.stored)"); return }
            #expect(try await setup.db.count("SELECT count(*) FROM tlsrpt_reports") == 2)
            #expect(try await setup.db.count("SELECT count(*) FROM jobs WHERE kind = 'tlsrpt.process'") == 2)
        }
    }

    @Test("A report about a domain that is not ours, or a malformed one, is refused and nothing is stored or queued")
    func refusedChangesNothing() async throws {
        try await Self.withSetup { setup in
            let foreign = await #expect(throws: TLSReportError.self) { try await setup.receive(ReportFixtures.report(id: "f1", domain: "elsewhere.example")) }
            #expect(foreign?.kind == .foreignDomain)
            #expect(foreign?.message == "policy-domain elsewhere.example is not a domain of this platform: its reports are not taken here")
            let malformed = await #expect(throws: TLSReportError.self) { try await setup.receive(Array("{\"policies\": {}}".utf8)) }
            #expect(malformed?.kind == .invalid)
            let bomb = try ReportFixtures.gzip([UInt8](repeating: 0x20, count: 8 * 1024 * 1024))
            let tooLarge = await #expect(throws: TLSReportError.self) {
                try await setup.intake.receive(TLSReportPayload(format: .gzip, bytes: bomb), origin: .https)
            }
            #expect(tooLarge?.kind == .tooLarge)
            #expect(try await setup.db.count("SELECT count(*) FROM tlsrpt_reports") == 0)
            #expect(try await setup.db.count("SELECT count(*) FROM jobs") == 0)
        }
    }

    @Test("Processing adds each report to the per-day aggregate once, by domain, policy type, result, MX and organisation")
    func aggregates() async throws {
        try await Self.withSetup { setup in
            _ = try await setup.receive(ReportFixtures.report(id: "a", organization: "Google", domain: "mail.example", successful: 900,
                                                              failures: [("certificate-expired", "mx1.mail.example", 60), ("starttls-not-supported", "mx2.mail.example", 40)]))
            _ = try await setup.receive(ReportFixtures.report(id: "b", organization: "Google", domain: "mail.example", successful: 100,
                                                              failures: [("certificate-expired", "mx1.mail.example", 5)]))
            _ = try await setup.receive(ReportFixtures.report(id: "c", organization: "Microsoft", domain: "other.example", day: "2026-11-27",
                                                              successful: 50, failures: [], policyType: "no-policy-found"))
            try await setup.process()
            let rows = try await setup.db.pool.query("""
                SELECT day::text AS day, policy_domain, policy_type, detail, result_type, receiving_mx, organization, alerting, sessions
                FROM tlsrpt_daily ORDER BY day, policy_domain, detail, result_type, receiving_mx
                """).map { row in
                [try row.decode("day", as: String.self), try row.decode("policy_domain"), try row.decode("policy_type"),
                 try row.decode("detail", as: Bool.self) ? "detail" : "total", try row.decode("result_type"),
                 try row.decode("receiving_mx"), try row.decode("organization"), "\(try row.decode("alerting", as: Bool.self))", "\(try row.decode("sessions", as: Int64.self))"]
                    .joined(separator: " ")
            }
            #expect(rows == [
                "2026-11-27 other.example no-policy-found total success  Microsoft true 50",
                "2026-11-28 mail.example sts total failure  Google true 105",
                "2026-11-28 mail.example sts total success  Google true 1000",
                "2026-11-28 mail.example sts detail certificate-expired mx1.mail.example Google true 65",
                "2026-11-28 mail.example sts detail starttls-not-supported mx2.mail.example Google true 40",
            ])
            #expect(try await setup.db.count("SELECT count(*) FROM tlsrpt_reports WHERE processed_at IS NULL") == 0)
            // A job run again (its worker was killed after committing) finds the report processed and adds nothing.
            let id: Int64 = try await setup.db.pool.query("SELECT id FROM tlsrpt_reports WHERE report_id = 'a'").first!.decode("id")
            #expect(try await TLSReportStore(pool: setup.transport).process(id: id, alerting: TLSReportAlerting(failureRatio: 0.05, minimumSessions: 100)) == nil)
            #expect(try await setup.db.count("SELECT sum(sessions)::int AS count FROM tlsrpt_daily") == 1260)
        }
    }

    @Test("A day whose failure rate is over the threshold is logged as a warning; unverified mail reports never warn")
    func warning() async throws {
        try await Self.withSetup { setup in
            _ = try await setup.receive(ReportFixtures.report(id: "bad", domain: "mail.example", successful: 10,
                                                              failures: [("validation-failure", "mx1.mail.example", 200)]), origin: .mailUnverified)
            try await setup.process()
            #expect(setup.logs.warnings.isEmpty, "\(setup.logs.warnings)")
            _ = try await setup.receive(ReportFixtures.report(id: "ok", domain: "mail.example", successful: 1000, failures: [("validation-failure", "mx1.mail.example", 20)]))
            try await setup.process()
            #expect(setup.logs.warnings.isEmpty, "2% is under 5%: \(setup.logs.warnings)")
            _ = try await setup.receive(ReportFixtures.report(id: "worse", domain: "mail.example", successful: 100, failures: [("certificate-expired", "mx1.mail.example", 80)]))
            try await setup.process()
            let warning = try #require(setup.logs.warnings.first)
            #expect(warning.message == "TLS delivery failure rate above threshold")
            #expect(warning.metadata["policy_domain"] == "mail.example")
            #expect(warning.metadata["failure_percent"] == "8.33", "100 failed of 1200, the unverified report left out")
            // Once per domain and day: a later report on a day already over the threshold does not warn again.
            _ = try await setup.receive(ReportFixtures.report(id: "worst", domain: "mail.example", successful: 10, failures: [("certificate-expired", "mx1.mail.example", 90)]))
            try await setup.process()
            #expect(setup.logs.warnings.count == 1, "\(setup.logs.warnings)")
        }
    }

    @Test("The summary: reports, sessions per domain with the unverified ones shown, top failures by sessions; one domain alone")
    func summary() async throws {
        try await Self.withSetup { setup in
            let today = Date().formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
            _ = try await setup.receive(ReportFixtures.report(id: "1", organization: "Google", domain: "mail.example", day: today, successful: 900,
                                                              failures: [("certificate-expired", "mx1.mail.example", 60), ("starttls-not-supported", "mx2.mail.example", 40)]))
            _ = try await setup.receive(ReportFixtures.report(id: "2", organization: "Mailer", domain: "other.example", day: today, successful: 10,
                                                              failures: [("dnssec-invalid", "mx.other.example", 90)]), origin: .mailUnverified)
            _ = try await setup.receive(ReportFixtures.report(id: "old", domain: "mail.example", day: "2020-01-01"))
            try await setup.process()
            _ = try await setup.receive(ReportFixtures.report(id: "3", organization: "Google", domain: "mail.example", day: today))
            let admin = setup.db.pool(as: "palisade_admin")
            defer { admin.close() }
            let summary = try await TLSReportStore(pool: admin).summary(since: today, domain: nil, top: 2)
            #expect(summary.reports == .init(total: 3, unverified: 1, unprocessed: 1))
            #expect(summary.domains == [.init(domain: "mail.example", successful: 900, failed: 100, unverified: 0),
                                        .init(domain: "other.example", successful: 10, failed: 90, unverified: 100)])
            #expect(summary.topFailures.map { "\($0.domain) \($0.resultType) \($0.receivingMX) \($0.organization) \($0.sessions)" } == [
                "other.example dnssec-invalid mx.other.example Mailer 90", "mail.example certificate-expired mx1.mail.example Google 60",
            ])
            let one = try await TLSReportStore(pool: setup.db.pool).summary(since: today, domain: "other.example", top: 10)
            #expect(one.reports.total == 1 && one.domains.map(\.domain) == ["other.example"] && one.topFailures.count == 1)
        }
    }
}

/// Log records kept for the test to read.
final class CapturedLogs: LogHandler, Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])
    var warnings: [Record] { records.withLock { $0.filter { $0.level == .warning } } }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let metadata = (event.metadata ?? [:]).mapValues { "\($0)" }
        records.withLock { $0.append(Record(level: event.level, message: "\(event.message)", metadata: metadata)) }
    }
}
