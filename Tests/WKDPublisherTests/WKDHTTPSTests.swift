import Core
import CoreTestSupport
import Foundation
import Testing
import WKDPublishing
import TLSCertificates

/// The publisher's own HTTPS listener: certificates in certbot's layout, chosen by SNI, reloaded
/// without a restart. Certificates come from the test world's CA; curl and openssl are the clients.
@Suite("WKD publisher over HTTPS")
struct WKDHTTPSTests {
    /// A certbot-layout directory in a scratch folder, removed by `close`.
    /// The HTTPS listener over `world`'s entries with `certificates`.
    func serving(_ world: WKDWorld, _ certificates: CertificateDirectory, _ body: (Int) async throws -> Void) async throws {
        try await world.refreshAll()
        let content = WKDContent()
        try await content.reloadAll(from: world.wkdPool)
        try await HTTPTestClient.serving(token: nil, logger: world.db.logger, { onListening in
            WKDApplication.httpsServer(content: content, certificates: certificates, host: "127.0.0.1", port: 0, logger: world.db.logger,
                                       onListening: onListening)
        }) { client in try await body(client.base.port!) }
    }

    @Test("Each host gets its own certificate by SNI, wildcards for one label; no SNI or an unknown name gets no handshake; no /healthz here")
    func bySNI() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let certbot = try CertbotDirectory.make()
        defer { certbot.close() }
        let ours = try await certbot.issue("example.org", for: ["example.org", "openpgpkey.example.org"])
        let customer = try await certbot.issue("ada.example", for: ["ada.example", "*.ada.example"])
        let certificates = CertificateDirectory(directory: certbot.root.path, metricsPrefix: "palisade_wkd", logger: world.db.logger)
        #expect(certificates.reload() == .init(serving: ["example.org": ["example.org", "openpgpkey.example.org"],
                                                         "ada.example": ["ada.example", "*.ada.example"]], failed: [:]))
        let admin = world.db.pool(as: "palisade_admin")
        defer { admin.close() }
        try await WKDServiceDomains(pool: admin, logger: world.db.logger).enable("ada.example", by: "test")
        try await serving(world, certificates) { port in
            #expect(try await HTTPSProbe.presented(port, serverName: "openpgpkey.example.org") == ours)
            #expect(try await HTTPSProbe.presented(port, serverName: "OPENPGPKEY.ada.example") == customer)
            #expect(try await HTTPSProbe.presented(port, serverName: "other.example") == "")
            #expect(try await HTTPSProbe.presented(port, serverName: "deeper.openpgpkey.ada.example") == "")
            #expect(try await HTTPSProbe.presented(port, serverName: nil) == "")

            let hash = try WKDWorld.hash("analyst@example.org")
            let advanced = try await HTTPSProbe.fetch(port, host: "openpgpkey.example.org", "/.well-known/openpgpkey/example.org/hu/\(hash)?l=analyst")
            #expect(advanced.status == "200")
            #expect(try WKDWorld.userIDs(advanced.body) == ["Other <analyst@example.org>"])
            let direct = try await HTTPSProbe.fetch(port, host: "ada.example", "/.well-known/openpgpkey/hu/\(try WKDWorld.hash("ada@ada.example"))")
            #expect(direct.status == "200")
            #expect(try WKDWorld.userIDs(direct.body) == ["Other <ada@ada.example>"])
            #expect(try await HTTPSProbe.fetch(port, host: "example.org", "/healthz").status == "404")
            #expect(try await HTTPSProbe.fetch(port, host: "unknown.example", "/.well-known/openpgpkey/policy").status == "000")
            // Plain HTTP to the TLS port: closed at once, nothing said in clear text.
            let (status, answer) = try await ChildProcess.runReportingStatus("/bin/bash", ["-c", """
                exec 3<>/dev/tcp/127.0.0.1/\(port); printf 'GET / HTTP/1.1\\r\\nHost: example.org\\r\\n\\r\\n' >&3; timeout 5 cat <&3
                """])
            #expect(status == 0 && answer.isEmpty, "\(status): \(answer)")
        }
    }

    @Test("A renewed, added, broken or removed certificate is taken up by a reload, without a restart; a broken one keeps its last good version")
    func reloads() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let certbot = try CertbotDirectory.make()
        defer { certbot.close() }
        let first = try await certbot.issue("example.org", for: ["example.org", "openpgpkey.example.org"])
        let certificates = CertificateDirectory(directory: certbot.root.path, metricsPrefix: "palisade_wkd", logger: world.db.logger)
        certificates.reload()
        try await serving(world, certificates) { port in
            #expect(try await HTTPSProbe.presented(port, serverName: "example.org") == first)
            // Renewed.
            let renewed = try await certbot.issue("example.org", for: ["example.org", "openpgpkey.example.org"])
            #expect(renewed != first)
            #expect(try await HTTPSProbe.presented(port, serverName: "example.org") == first)
            certificates.reload()
            #expect(try await HTTPSProbe.presented(port, serverName: "example.org") == renewed)
            // Added.
            let added = try await certbot.issue("new.example", for: ["openpgpkey.new.example"])
            #expect(certificates.reload().serving.keys.sorted() == ["example.org", "new.example"])
            #expect(try await HTTPSProbe.presented(port, serverName: "openpgpkey.new.example") == added)
            // Broken: a key that is not PEM, then the key of another certificate. The last good one stays.
            let key = certbot.live("example.org").appendingPathComponent("privkey.pem")
            try Data("not a key".utf8).write(to: key)
            #expect(certificates.reload().failed["example.org"]?.contains("privkey.pem: not a PEM private key") == true)
            #expect(try await HTTPSProbe.presented(port, serverName: "example.org") == renewed)
            try FileManager.default.removeItem(at: key)
            try FileManager.default.copyItem(at: certbot.live("new.example").appendingPathComponent("privkey.pem"), to: key)
            #expect(certificates.reload().failed["example.org"]?.contains("is it the certificate's key?") == true)
            #expect(try await HTTPSProbe.presented(port, serverName: "example.org") == renewed)
            // Removed.
            try FileManager.default.removeItem(at: certbot.live("new.example"))
            #expect(certificates.reload().serving.keys.sorted() == ["example.org"])
            #expect(try await HTTPSProbe.presented(port, serverName: "openpgpkey.new.example") == "")
        }
    }

    @Test("When two certificates name a host, the one that expires last is served")
    func latestWins() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let certbot = try CertbotDirectory.make()
        defer { certbot.close() }
        try await certbot.issue("example.org", for: ["openpgpkey.example.org"], days: 2)
        let certificates = CertificateDirectory(directory: certbot.root.path, metricsPrefix: "palisade_wkd", logger: world.db.logger)
        certificates.reload()
        // certbot's renewal under a new name, which expires later; and an older one that sorts after both.
        let later = try await certbot.issue("example.org-0001", for: ["openpgpkey.example.org"], days: 3)
        try await certbot.issue("z-old", for: ["openpgpkey.example.org"], days: 1)
        certificates.reload()
        try await serving(world, certificates) { port in
            let presented = try await HTTPSProbe.presented(port, serverName: "openpgpkey.example.org")
            #expect(presented == later)
        }
    }
}
