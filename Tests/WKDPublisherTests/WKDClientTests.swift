import Aliases
import Core
import CoreTestSupport
import Foundation
import HTTPService
import OpenPGP
import Testing
import WKDPublishing
import TLSCertificates

/// Real clients: GnuPG and Sequoia fetch our users' keys over HTTPS (Deploy/local/wkd-clients.sh: nginx with
/// the test CA on 127.0.0.2:443 in front of the publisher or serving its static export, or the publisher's
/// own HTTPS listener on 127.0.0.3:443; the clients in a mount namespace with their own hosts file and CA
/// bundle). One at a time: they share port 443.
@Suite("WKD with gpg and sq", .serialized)
struct WKDClientTests {
    static let published = ["ada@example.org", "Ada.Lovelace@example.org", "analyst@example.org"]

    /// Runs the clients for `addresses`; what each fetched, by client and address (its log under "… log"
    /// when it fetched nothing), and nginx's log lines ("host uri status") under "nginx".
    func clients(_ target: [String], method: String, _ addresses: [String]) async throws -> [String: [String]] {
        let world = try TestWorld.current()
        let https = URL(fileURLWithPath: world.certificateAuthorityFile).deletingLastPathComponent()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("wkd-clients-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let script = TestDatabase.repositoryRoot.appendingPathComponent("Deploy/local/wkd-clients.sh").path
        let (status, output) = try await ChildProcess.runReportingStatus(
            "/bin/bash", [script, work.path, world.certificateAuthorityFile, https.appendingPathComponent("ca.key").path] + target + [method] + addresses,
            includingStandardError: true)
        guard status == 0 else { throw TestSetupError("wkd-clients.sh exited \(status): \(output)") }
        var fetched: [String: [String]] = [:]
        for client in ["gpg", "sq"] {
            for address in addresses {
                let data = Array((try? Data(contentsOf: work.appendingPathComponent("\(client)-\(address).pgp"))) ?? Data())
                let log = (try? String(contentsOf: work.appendingPathComponent("\(client)-\(address).log"), encoding: .utf8)) ?? ""
                fetched["\(client) \(address)"] = data.isEmpty ? [] : try Certificate.parse(data).flatMap { $0.userIDs.map(\.text) }
                if data.isEmpty { fetched["\(client) \(address) log"] = [log] }
            }
        }
        fetched["nginx"] = ((try? String(contentsOf: work.appendingPathComponent("nginx/access.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
        return fetched
    }

    /// Every key request went to the method's host: openpgpkey.<domain> for advanced, <domain> for direct.
    func expectMethod(_ fetched: [String: [String]], _ method: String) {
        let keyRequests = (fetched["nginx"] ?? []).filter { $0.contains("/hu/") }
        #expect(!keyRequests.isEmpty)
        for line in keyRequests {
            #expect(line.hasPrefix("openpgpkey.") == (method == "advanced"), "\(method): \(line)")
        }
    }

    func expectEachOwnUserID(_ fetched: [String: [String]], _ world: WKDWorld) {
        let expected = ["ada@example.org": ["Test <ada@example.org>"], "Ada.Lovelace@example.org": ["Other <Ada.Lovelace@example.org>"],
                        "analyst@example.org": ["Other <analyst@example.org>"]]
        for client in ["gpg", "sq"] {
            for (address, userIDs) in expected {
                #expect(fetched["\(client) \(address)"] == userIDs, "\(client) \(address): \(fetched["\(client) \(address) log"] ?? [])")
            }
        }
    }

    @Test("From the running publisher behind a TLS proxy, by the advanced and the direct method: each key with its one User ID")
    func fromThePublisher() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await world.refreshAll()
        let content = WKDContent()
        try await content.reloadAll(from: world.wkdPool)
        try await HTTPTestClient.serving(token: nil, logger: world.db.logger, { onListening in
            WKDApplication.server(content: content, pool: world.wkdPool, host: "127.0.0.1", port: 0, logger: world.db.logger, onListening: onListening)
        }) { client in
            for method in ["advanced", "direct"] {
                let fetched = try await clients(["--upstream", "127.0.0.1:\(client.base.port!)"], method: method, Self.published + ["nobody@example.org"])
                expectEachOwnUserID(fetched, world)
                expectMethod(fetched, method)
                #expect(fetched["gpg nobody@example.org"] == [] && fetched["sq nobody@example.org"] == [])
            }
        }
    }

    @Test("Straight from the publisher's own HTTPS listener on 127.0.0.3:443, its certificate chosen by SNI: the same")
    func fromTheHTTPSListener() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await world.refreshAll()
        let content = WKDContent()
        try await content.reloadAll(from: world.wkdPool)
        let certbot = try CertbotDirectory.make()
        defer { certbot.close() }
        try await certbot.issue("example.org", for: ["example.org", "openpgpkey.example.org"])
        let certificates = CertificateDirectory(directory: certbot.root.path, metricsPrefix: "palisade_wkd", logger: world.db.logger)
        #expect(certificates.reload().failed.isEmpty)
        try await HTTPTestClient.serving(token: nil, logger: world.db.logger, { onListening in
            WKDApplication.httpsServer(content: content, certificates: certificates, host: "127.0.0.3", port: 443, logger: world.db.logger,
                                       onListening: onListening)
        }) { _ in
            for method in ["advanced", "direct"] {
                let fetched = try await clients(["--server", "127.0.0.3"], method: method, Self.published + ["nobody@example.org"])
                expectEachOwnUserID(fetched, world)
                #expect(fetched["gpg nobody@example.org"] == [] && fetched["sq nobody@example.org"] == [])
            }
        }
    }

    @Test("From the static export served by nginx: the same")
    func fromTheExport() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await world.refreshAll()
        let content = WKDContent()
        try await content.reloadAll(from: world.wkdPool)
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("wkd-export-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: parent) }
        let directory = parent.appendingPathComponent("wkd").path
        _ = try WKDExport.write(domains: content.all.domains, entries: content.all.entries, to: directory)
        for method in ["advanced", "direct"] {
            let fetched = try await clients(["--root", directory], method: method, Self.published)
            expectEachOwnUserID(fetched, world)
            expectMethod(fetched, method)
        }
    }
}
