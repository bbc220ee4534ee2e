import Core
import CoreTestSupport
import Foundation
import Testing

/// TLS reports taken in by the running palisade-transport over HTTPS (RFC 8460 §5.4) and by
/// `platformctl tlsrpt ingest` from mail, from curl and from a real generator (sys4's tlsrpt-reporter),
/// then aggregated by the daemon's tlsrpt.process jobs.
@Suite("TLS report intake")
struct TLSReportIntakeTests {
    /// The daemon with an HTTPS listener whose certificate names reports.mail.example, our domains in the
    /// database, and a scratch directory.
    struct Running {
        let world: TransportWorld
        let service: RunningService
        let config: URL
        let certbot: CertbotDirectory
        let scratch: URL
        let https: Int
        let http: Int

        var transportURL: String { world.db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_transport@") }

        /// curl POSTs `file` with `type`; returns the status and the body.
        func post(_ file: URL, type: String, tls: Bool = true, headers: [String] = []) async throws -> (status: String, body: String) {
            let output = scratch.appendingPathComponent("answer-\(UUID().uuidString.prefix(8))")
            let target = tls ? ["--cacert", world.world.certificateAuthorityFile, "--resolve", "reports.mail.example:\(https):127.0.0.1",
                                "https://reports.mail.example:\(https)/v1/tlsrpt"]
                             : ["http://127.0.0.1:\(http)/v1/tlsrpt"]
            let (_, status) = try await ChildProcess.runReportingStatus("/usr/bin/curl", [
                "-s", "-o", output.path, "-w", "%{http_code}", "-H", "Content-Type: \(type)", "--data-binary", "@\(file.path)",
            ] + headers.flatMap { ["-H", $0] } + target)
            return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
        }

        func write(_ name: String, _ text: String) throws -> URL {
            let file = scratch.appendingPathComponent(name)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return file
        }

        func shell(_ script: String) async throws {
            try await ChildProcess.run("/bin/bash", ["-c", script])
        }
    }

    static func withService(_ body: (Running) async throws -> Void) async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        try await world.db.pool.query("""
            INSERT INTO domains (name, kind) VALUES ('mail.example', 'platform'), ('custom.example', 'platform'), ('both.example', 'platform')
            """)
        let certbot = try CertbotDirectory.make()
        defer { certbot.close() }
        try await certbot.issue("reports", for: ["reports.mail.example"])
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-tlsrpt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let config = try TransportServiceTests.configuration(world.world, extra: TransportServiceTests.listeners(certificates: certbot.root) + """
            tlsrpt:
              maxCompressedSize: 65536
              maxReportSize: 1048576
            """)
        defer { try? FileManager.default.removeItem(at: config) }
        let service = try RunningService("palisade-transport", ["--config", config.path],
                                         databaseURL: world.db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_transport@"))
        defer { service.stop() }
        let https = try await service.listeningPort("http.port", markers: ["http.tls=true"], in: world.db)
        let http = try await service.listeningPort("http.port", markers: ["http.tls=false"], in: world.db)
        try await body(Running(world: world, service: service, config: config, certbot: certbot, scratch: scratch, https: https, http: http))
    }

    static func report(id: String, domain: String = "mail.example", successful: Int = 95, failed: Int = 5) -> String {
        """
        {"organization-name": "Reporter Inc.", "date-range": {"start-datetime": "2026-11-28T00:00:00Z", "end-datetime": "2026-11-28T23:59:59Z"},
         "contact-info": "tlsrpt@reporter.example", "report-id": "\(id)",
         "policies": [{"policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.\(domain)", "max_age: 86400"],
                                  "policy-domain": "\(domain)", "mx-host": ["mx1.\(domain)"]},
                       "summary": {"total-successful-session-count": \(successful), "total-failure-session-count": \(failed)},
                       "failure-details": [{"result-type": "certificate-expired", "receiving-mx-hostname": "mx1.\(domain)", "failed-session-count": \(failed)}]}]}
        """
    }

    @Test("HTTPS POST: 201 stored, 200 for a duplicate, 413 for a gzip bomb, 415, 400 and 422 with the reason; processed into the aggregate")
    func httpsIntake() async throws {
        try await Self.withService { running in
            let json = try running.write("r1.json", Self.report(id: "r1"))
            try await running.shell("gzip -c '\(json.path)' > '\(json.path).gz'")
            let gzipped = URL(fileURLWithPath: json.path + ".gz")
            var answer = try await running.post(gzipped, type: "application/tlsrpt+gzip")
            #expect(answer.status == "201" && answer.body.contains("\"status\":\"stored\""), "\(answer)\n\(running.service.logged)")
            answer = try await running.post(json, type: "application/tlsrpt+json")
            #expect(answer.status == "200" && answer.body.contains("\"status\":\"duplicate\""), "\(answer)")
            // Over the plain listener too (behind a TLS-terminating proxy).
            answer = try await running.post(try running.write("r2.json", Self.report(id: "r2", successful: 900, failed: 100)), type: "application/tlsrpt+json", tls: false)
            #expect(answer.status == "201", "\(answer)")
            // JSON gzipped with a transfer coding instead of the +gzip type.
            let r3 = try running.write("r3.json", Self.report(id: "r3", successful: 0, failed: 0))
            try await running.shell("gzip -c '\(r3.path)' > '\(r3.path).gz'")
            answer = try await running.post(URL(fileURLWithPath: r3.path + ".gz"), type: "application/tlsrpt+json", headers: ["Content-Encoding: gzip"])
            #expect(answer.status == "201", "\(answer)")

            try await running.shell("head -c 20000000 /dev/zero | gzip -c > '\(running.scratch.path)/bomb.gz'")
            answer = try await running.post(running.scratch.appendingPathComponent("bomb.gz"), type: "application/tlsrpt+gzip")
            #expect(answer.status == "413" && answer.body.contains("decompresses to more than 1048576 bytes"), "\(answer)")
            answer = try await running.post(json, type: "text/plain")
            #expect(answer.status == "415", "\(answer)")
            answer = try await running.post(try running.write("bad.json", #"{"organization-name": "x", "policies": {}}"#), type: "application/tlsrpt+json")
            #expect(answer.status == "400" && answer.body.contains(#"the required member \"date-range\" is missing"#), "\(answer)")
            answer = try await running.post(try running.write("foreign.json", Self.report(id: "f1", domain: "elsewhere.example")), type: "application/tlsrpt+json")
            #expect(answer.status == "422" && answer.body.contains("elsewhere.example is not a domain of this platform"), "\(answer)")
            #expect(try await running.world.db.count("SELECT count(*) FROM tlsrpt_reports") == 3)

            try await running.world.db.eventually("the daemon's worker has processed the reports") {
                try await running.world.db.count("SELECT count(*) FROM tlsrpt_reports WHERE processed_at IS NOT NULL") == 3
            }
            #expect(try await running.world.db.count("SELECT sum(sessions)::int AS count FROM tlsrpt_daily WHERE result_type = 'success'") == 995)
            #expect(try await running.world.db.count("SELECT sum(sessions)::int AS count FROM tlsrpt_daily WHERE detail AND result_type = 'certificate-expired'") == 105)
            #expect(try await running.world.db.count("SELECT sum(sessions)::int AS count FROM tlsrpt_daily WHERE NOT detail AND result_type = 'failure'") == 105)
            let metrics = try await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(running.http)/metrics"])
            for series in [#"palisade_tlsrpt_reports_total{origin="https",outcome="stored"} 3"#, #"outcome="duplicate"} 1"#, #"outcome="too_large"} 1"#,
                           #"outcome="foreign_domain"} 1"#, #"outcome="unsupported_media_type"} 1"#, #"outcome="invalid"} 1"#,
                           #"result="certificate-expired"} 105"#, #"result="failure"} 105"#] {
                #expect(metrics.contains(series), "\(series)\n\(metrics.split(separator: "\n").filter { $0.contains("tlsrpt") }.joined(separator: "\n"))")
            }
        }
    }

    @Test("platformctl tlsrpt ingest: a report mail stored as unverified (exit 0), again (0, nothing changed), refused (65), no database (75)")
    func ingest() async throws {
        try await Self.withService { running in
            let json = try running.write("m1.json", Self.report(id: "m1", domain: "custom.example"))
            let mail = running.scratch.appendingPathComponent("m1.eml")
            try await running.shell("""
                { printf 'From: tlsrpt@reporter.example\\nSubject: Report Domain: custom.example Submitter: reporter.example Report-ID: <m1@reporter.example>\\n'
                  printf 'TLS-Report-Domain: custom.example\\nMIME-Version: 1.0\\nContent-Type: multipart/report; report-type=tlsrpt; boundary=b\\n\\n'
                  printf -- '--b\\nContent-Type: text/plain\\n\\nreport\\n--b\\nContent-Type: application/tlsrpt+gzip\\nContent-Transfer-Encoding: base64\\n\\n'
                  gzip -c '\(json.path)' | base64; printf -- '--b--\\n'; } > '\(mail.path)'
                """)
            func ingest(_ file: URL, databaseURL: String) async throws -> (status: Int32, output: String) {
                var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PALISADE_") }
                environment["PALISADE_DATABASE_URL"] = databaseURL
                return try await ChildProcess.runReportingStatus("/bin/bash", ["-c", "exec \"$0\" tlsrpt ingest --config \"$1\" < \"$2\"",
                                                                              TestDatabase.repositoryRoot.appendingPathComponent(".build/debug/platformctl").path,
                                                                              running.config.path, file.path], environment: environment, includingStandardError: true)
            }
            var result = try await ingest(mail, databaseURL: running.transportURL)
            #expect(result.status == 0 && result.output.contains("stored report m1 (mail-unverified)"), "\(result.output)")
            result = try await ingest(mail, databaseURL: running.transportURL)
            #expect(result.status == 0 && result.output.contains("report m1 is stored already"), "\(result.output)")
            result = try await ingest(json, databaseURL: running.transportURL)
            #expect(result.status == 65 && result.output.contains("invalid: this is not a mail message: no From, Subject or Content-Type header field"),
                    "a bare report is not a mail: \(result.output)")
            result = try await ingest(mail, databaseURL: "postgresql://palisade_transport@127.0.0.1:1/nothing?connect_timeout=2")
            #expect(result.status == 75, "Postfix keeps the mail while the database is down: \(result.output)")
            #expect(try await running.world.db.count("SELECT count(*) FROM tlsrpt_reports WHERE origin = 'mail-unverified' AND envelope->>'reportDomain' = 'custom.example'") == 1)
        }
    }

    @Test("tlsrpt-reporter (a real generator) delivers its reports over HTTPS to the daemon and by mail through platformctl tlsrpt ingest")
    func realGenerator() async throws {
        guard let venv = ProcessInfo.processInfo.environment["PALISADE_TEST_TLSRPT_REPORTER"], !venv.isEmpty else {
            throw TestSetupError("PALISADE_TEST_TLSRPT_REPORTER is not set: run the tests with `make test`, which installs tlsrpt-reporter from PyPI in a venv")
        }
        try await Self.withService { running in
            let platformctl = TestDatabase.repositoryRoot.appendingPathComponent(".build/debug/platformctl").path
            let sendmail = "env PALISADE_DATABASE_URL=\(running.transportURL) \(platformctl) tlsrpt ingest --config \(running.config.path)"
            let script = TestDatabase.repositoryRoot.appendingPathComponent("Tests/TransportPolicyTests/tlsrpt-reporter.sh").path
            let result = try await ChildProcess.runReportingStatus("/bin/bash", [
                script, venv, running.scratch.appendingPathComponent("reporter").path, "reports.mail.example", "\(running.https)", "/v1/tlsrpt",
                running.world.world.certificateAuthorityFile, sendmail,
            ], includingStandardError: true)
            #expect(result.status == 0, "\(result.output)\n\(running.service.logged)")
            let stored = try await running.world.db.pool.query("""
                SELECT report->'policies'->0->'policy'->>'policy-domain' AS domain, origin FROM tlsrpt_reports ORDER BY 1
                """).map { "\(try $0.decode("domain", as: String.self)) \(try $0.decode("origin", as: String.self))" }
            // both.example's report went to both rua: stored once, whichever came first.
            #expect(stored.count == 3 && stored[1] == "custom.example mail-unverified" && stored[2] == "mail.example https", "\(stored)")
            #expect(stored.first?.hasPrefix("both.example ") == true, "\(stored)")
            try await running.world.db.eventually("the daemon's worker has processed the reports") {
                try await running.world.db.count("SELECT count(*) FROM tlsrpt_reports WHERE processed_at IS NULL") == 0
            }
            let summary = try await running.world.db.platformctl(["tlsrpt", "summary", "--since", "3d", "--json", "--config", running.config.path])
            #expect(summary.status == 0, "\(summary.output)")
            let decoded = try JSONSerialization.jsonObject(with: Data(summary.output.utf8)) as? [String: Any]
            let domains = (decoded?["domains"] as? [[String: Any]] ?? []).map { "\($0["domain"]!) \($0["successful"]!) \($0["failed"]!) \($0["unverified"]!)" }
            #expect(domains.contains("mail.example 3 3 0") && domains.contains("custom.example 2 1 3"), "\(summary.output)")
            let table = try await running.world.db.platformctl(["tlsrpt", "summary", "--since", "3d", "--domain", "mail.example", "--config", running.config.path])
            #expect(table.output.contains("validation-failure") && table.output.contains("sts-webpki-invalid") && table.output.contains("Example Sender Org"),
                    "\(table.output)")
        }
    }
}
