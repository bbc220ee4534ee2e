import CoreTestSupport
import Foundation
import Testing
import WKDPublishing

/// The `palisade-wkd` executable itself: its HTTPS start-up and SIGHUP, as systemd and certbot's deploy
/// hook drive them.
@Suite("palisade-wkd executable")
struct WKDServiceBinaryTests {
    @Test("HTTPS without a usable certificate stops start-up with status 78 and names the setting")
    func noCertificate() async throws {
        let certbot = try CertbotDirectory.make()
        defer { certbot.close() }
        let result = try await ChildProcess.runBuilt("palisade-wkd", ["--wkd-https-certificates", certbot.root.path])
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains("wkd.https.certificates"), "\(result.output)")
    }

    @Test("SIGHUP takes up a renewed certificate without a restart; SIGTERM ends the service")
    func hangup() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let certbot = try CertbotDirectory.make()
        defer { certbot.close() }
        let first = try await certbot.issue("example.org", for: ["example.org"])
        let service = try RunningService("palisade-wkd", ["--wkd-http-port", "0", "--wkd-https-port", "0", "--wkd-https-certificates", certbot.root.path],
                                         databaseURL: world.db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_wkd@"))
        defer { service.stop() }
        let process = service.process

        let https = try await service.listeningPort("http.port", markers: ["http.tls=true"], in: world.db)
        #expect(try await HTTPSProbe.presented(https, serverName: "example.org") == first)

        let renewed = try await certbot.issue("example.org", for: ["example.org"])
        kill(process.processIdentifier, SIGHUP)
        try await world.db.eventually("the renewed certificate is served") {
            try await HTTPSProbe.presented(https, serverName: "example.org") == renewed || !process.isRunning
        }
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGTERM)
        await ChildProcess.waitForExit(process)
        #expect(process.terminationStatus == 0, "\(service.logged)")
    }
}
