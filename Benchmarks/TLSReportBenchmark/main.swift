// TLS report intake and aggregation (`make bench-tlsrpt`): REPORTS distinct gzipped reports (DOMAINS policy
// domains of ours, 20 reporting organisations, an sts policy with three kinds of failure at two MX hosts
// each) taken in by TLSReportIntake (what palisade-transport's POST route and `platformctl tlsrpt ingest`
// call: gunzip within the limits, strict parse, domain check, insert, tlsrpt.process job) by CALLERS at once:
// reports per second; then aggregated by the tlsrpt.process handler on a JobWorker of WORKERS: the time
// from the first job claimed to the last report processed, and reports per second.
// Benchmarks/run-tlsrpt.sh prepares the database and runs it.
//
//   TLSReportBenchmark TRANSPORT_URL REPORTS DOMAINS CALLERS WORKERS
import CompressNIO
import Core
import CoreTestSupport
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import TLSReporting

let arguments = CommandLine.arguments
guard arguments.count == 6, let count = Int(arguments[2]), let domains = Int(arguments[3]), let callers = Int(arguments[4]),
      let workers = Int(arguments[5]) else {
    FileHandle.standardError.write(Data("usage: TLSReportBenchmark TRANSPORT_URL REPORTS DOMAINS CALLERS WORKERS\n".utf8))
    exit(64)
}
LogFormatting.bootstrap(format: .text, level: .error)
let logger = Logger(label: "palisade.bench")
let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: arguments[1], applicationName: "tlsrpt-bench",
                                                             maxConnections: max(callers, workers) + 2), logger: logger)
func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).inSeconds }

// The reports, made and gzipped before the clock starts.
func report(_ index: Int) -> [UInt8] {
    let domain = "d\(index % domains).bench.example"
    let day = String(format: "2026-11-%02d", 1 + index / (domains * 20) % 28)
    let json = """
        {"organization-name": "Reporter \(index % 20)", "date-range": {"start-datetime": "\(day)T00:00:00Z", "end-datetime": "\(day)T23:59:59Z"},
         "contact-info": "tlsrpt@reporter\(index % 20).example", "report-id": "\(day)_\(index)_\(domain)",
         "policies": [{"policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.\(domain)", "mx: mx2.\(domain)", "max_age: 604800"],
                                  "policy-domain": "\(domain)", "mx-host": ["mx1.\(domain)", "mx2.\(domain)"]},
                       "summary": {"total-successful-session-count": \(1000 + index % 97), "total-failure-session-count": \(index % 13 + 3)},
                       "failure-details": [
                         {"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.\(index % 250)", "receiving-mx-hostname": "mx1.\(domain)", "receiving-ip": "198.51.100.1", "failed-session-count": 1},
                         {"result-type": "starttls-not-supported", "sending-mta-ip": "192.0.2.\(index % 250)", "receiving-mx-hostname": "mx2.\(domain)", "receiving-ip": "198.51.100.2", "failed-session-count": 2},
                         {"result-type": "validation-failure", "sending-mta-ip": "192.0.2.\(index % 250)", "receiving-mx-hostname": "mx1.\(domain)", "failed-session-count": \(index % 13), "failure-reason-code": "X509_V_ERR_CERT_HAS_EXPIRED"}]}]}
        """
    var buffer = ByteBuffer(string: json)
    return Array(try! buffer.compress(with: .gzip()).readableBytesView)
}
let bodies = (0..<count).map(report)
let averageSize = bodies.reduce(0) { $0 + $1.count } / count

// 1. Intake.
let intake = TLSReportIntake(pool: pool, limits: .init(compressed: 2 * 1024 * 1024, json: 10 * 1024 * 1024), logger: logger)
var start = ContinuousClock.now
try await forEachIndex(count, callers: callers) { index in
    _ = try await intake.receive(TLSReportPayload(format: .gzip, bytes: bodies[index]), origin: .https)
}
let intakeSeconds = seconds(since: start)
print(String(format: "tlsrpt intake reports=%d callers=%d gzip_bytes_avg=%d seconds=%.2f reports_per_second=%.0f",
             count, callers, averageSize, intakeSeconds, Double(count) / intakeSeconds))

// 2. Aggregation: the jobs queued by the intake, worked off by one worker of WORKERS.
let handler = TLSReportProcessJob.handler(pool: pool, alerting: TLSReportAlerting(failureRatio: 0.05, minimumSessions: 100), logger: logger)
let worker = JobWorker(queue: TLSReportProcessJob.queue, handlers: [TLSReportProcessJob.kind: handler], jobs: JobQueue(pool: pool), wakeups: nil,
                       options: .init(concurrency: workers, batchSize: workers * 4, pollInterval: .milliseconds(20)), logger: logger)
start = ContinuousClock.now
let group = ServiceGroup(services: [worker], logger: logger)
try await withThrowingTaskGroup(of: Void.self) { tasks in
    tasks.addTask { try await group.run() }
    while try await pool.query("SELECT count(*) AS left FROM tlsrpt_reports WHERE processed_at IS NULL").first!.decode("left", as: Int.self) > 0 {
        try await Task.sleep(for: .milliseconds(20))
    }
    await group.triggerGracefulShutdown()
    try await tasks.waitForAll()
}
let aggregationSeconds = seconds(since: start)
let rows = try await pool.query("SELECT count(*) AS rows, sum(sessions) FILTER (WHERE NOT detail)::bigint AS sessions FROM tlsrpt_daily").first!
print(String(format: "tlsrpt aggregation reports=%d workers=%d seconds=%.2f reports_per_second=%.0f daily_rows=%d sessions=%d",
             count, workers, aggregationSeconds, Double(count) / aggregationSeconds, try rows.decode("rows", as: Int.self),
             try rows.decode("sessions", as: Int64.self)))
pool.close()
