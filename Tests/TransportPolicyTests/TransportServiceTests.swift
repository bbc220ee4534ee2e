import Core
import CoreTestSupport
import Foundation
import Testing

/// The `palisade-transport` executable as systemd runs it, asked by `postmap`, and `platformctl transport
/// check`, both configured for the test world through a YAML file.
@Suite("palisade-transport and platformctl transport")
struct TransportServiceTests {
    static let s = "secure.palisade.example"

    /// A configuration file for the test world (its DNS, CA and policy port).
    static func configuration(_ world: TestWorld, extra: String = "") throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-transport-\(UUID().uuidString.prefix(8)).yaml")
        try (world.clientSettingsYAML + "\n" + """
            transport:
              mtaSts:
                port: \(world.httpsPort)
                allowPrivateAddresses: true
            \(extra)
            """).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The daemon's listeners on free ports (logged at start), with an HTTPS listener on `certificates`.
    static func listeners(certificates: URL? = nil) -> String {
        var yaml = "  socketmap:\n    port: 0\n  http:\n    port: 0\n"
        if let certificates { yaml += "  https:\n    port: 0\n    certificates: \(certificates.path)\n" }
        return yaml
    }

    @Test("platformctl transport check prints the DNS, DNSSEC, policy and TLSA state and each profile's answer")
    func check() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let config = try Self.configuration(world.world)
        defer { try? FileManager.default.removeItem(at: config) }
        var result = try await world.db.platformctl(["transport", "check", "--config", config.path, "sts-wild.\(Self.s)"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("MX (DNSSEC secure): a.sts-wild.\(Self.s), b.c.sts-wild.\(Self.s)"))
        #expect(result.output.contains("policy id wild1 (in force"))
        #expect(result.output.contains("map postfix: OK secure match=a.sts-wild.\(Self.s) servername=hostname"))
        #expect(result.output.contains("map postfix-tlsrpt: OK secure match=a.sts-wild.\(Self.s) servername=hostname policy_type=sts"))
        result = try await world.db.platformctl(["transport", "check", "--config", config.path, "--profile", "postfix", "expired.palisade.example"])
        #expect(result.status == 9, "a temporary failure exits 9: \(result.output)")
        #expect(result.output.contains("map postfix: TEMP DANE: the MX look-up failed"))
        result = try await world.db.platformctl(["transport", "check", "--config", config.path, "--json", "sts-dane.\(Self.s)"])
        #expect(result.status == 0)
        #expect(result.output.contains("\"reply\" : \"OK dane-only\""), "\(result.output)")
        result = try await world.db.platformctl(["transport", "check", "--config", config.path, "--cached", "sts-dane.\(Self.s)"])
        #expect(result.status == 5 && result.output.contains("is not cached"), "\(result.output)")
        result = try await world.db.platformctl(["transport", "check", "--config", config.path, "[mx.example.org]:25"])
        #expect(result.status == 5 && result.output.contains("an explicit next hop"), "\(result.output)")
    }

    @Test("The executable answers postmap, serves our own MTA-STS policy and /healthz, and stops cleanly on SIGTERM")
    func executable() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let config = try Self.configuration(world.world, extra: Self.listeners() + """
              ownPolicy:
                domains: [mail.example]
                mx: [mx1.mail.example, "*.mx.mail.example"]
            """)
        defer { try? FileManager.default.removeItem(at: config) }
        let service = try RunningService("palisade-transport", ["--config", config.path],
                                         databaseURL: world.db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_transport@"))
        defer { service.stop() }
        let process = service.process
        func logged() -> String { service.logged }
        let socketmap = try await service.listeningPort("socketmap.port", in: world.db)
        let http = try await service.listeningPort("http.port", in: world.db)

        let (status, answer) = try await SocketmapServerTests.postmap("sts-enforce.\(Self.s)", "socketmap:inet:127.0.0.1:\(socketmap):postfix")
        #expect(status == 0 && answer == "secure match=mx1.sts-enforce.\(Self.s) servername=hostname", "\(answer)\n\(logged())")
        #expect(try await world.db.count("SELECT count(*) FROM transport_policies") == 1)

        let policy = try await ChildProcess.runReportingStatus("/usr/bin/curl", [
            "-s", "-i", "-H", "Host: mta-sts.mail.example", "http://127.0.0.1:\(http)/.well-known/mta-sts.txt",
        ])
        #expect(policy.output.contains("Content-Type: text/plain") || policy.output.contains("content-type: text/plain"), "\(policy.output)")
        #expect(policy.output.contains("version: STSv1\r\nmode: enforce\r\nmx: mx1.mail.example\r\nmx: *.mx.mail.example\r\nmax_age: 604800\r\n"), "\(policy.output)")
        let other = try await ChildProcess.runReportingStatus("/usr/bin/curl", [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: mta-sts.other.example", "http://127.0.0.1:\(http)/.well-known/mta-sts.txt",
        ])
        #expect(other.output == "404")
        let health = try await ChildProcess.runReportingStatus("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(http)/healthz"])
        #expect(health.output == "200")
        let metrics = try await ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(http)/metrics"])
        #expect(metrics.contains("palisade_transport_answers_total{cached=\"false\",kind=\"sts-enforce\"} 1") ||
                metrics.contains("palisade_transport_answers_total{kind=\"sts-enforce\",cached=\"false\"} 1"), "\(metrics.prefix(3000))")

        kill(process.processIdentifier, SIGTERM)
        await ChildProcess.waitForExit(process)
        #expect(process.terminationStatus == 0, "\(logged())")
    }

    @Test("Our own policy over HTTPS: the certificate SNI names, none for other names, a renewed one after SIGHUP")
    func ownPolicyOverHTTPS() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let certbot = try CertbotDirectory.make()
        defer { certbot.close() }
        let first = try await certbot.issue("mail.example", for: ["mta-sts.mail.example"])
        let config = try Self.configuration(world.world, extra: Self.listeners(certificates: certbot.root) + """
              ownPolicy:
                domains: [mail.example]
                mx: [mx1.mail.example]
                maxAge: 1d
            """)
        defer { try? FileManager.default.removeItem(at: config) }
        let service = try RunningService("palisade-transport", ["--config", config.path],
                                         databaseURL: world.db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_transport@"))
        defer { service.stop() }
        let https = try await service.listeningPort("http.port", markers: ["http.tls=true"], in: world.db)
        let policy = try await HTTPSProbe.fetch(https, host: "mta-sts.mail.example", "/.well-known/mta-sts.txt")
        #expect(policy.status == "200")
        #expect(String(decoding: policy.body, as: UTF8.self) == "version: STSv1\r\nmode: enforce\r\nmx: mx1.mail.example\r\nmax_age: 86400\r\n")
        #expect(try await HTTPSProbe.presented(https, serverName: "mta-sts.mail.example") == first)
        #expect(try await HTTPSProbe.presented(https, serverName: "other.example") == "", "no certificate for another name")

        let renewed = try await certbot.issue("mail.example", for: ["mta-sts.mail.example"])
        kill(service.process.processIdentifier, SIGHUP)
        try await world.db.eventually("the renewed certificate is served") {
            try await HTTPSProbe.presented(https, serverName: "mta-sts.mail.example") == renewed || !service.process.isRunning
        }
        #expect(service.process.isRunning)
        kill(service.process.processIdentifier, SIGTERM)
        await ChildProcess.waitForExit(service.process)
        #expect(service.process.terminationStatus == 0, "\(service.logged)")
    }
}
