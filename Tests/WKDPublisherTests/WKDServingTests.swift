import Aliases
import Core
import CoreTestSupport
import Keystore
import Foundation
import HTTPService
import Logging
import OpenPGP
import ServiceLifecycle
import Testing
import WKDPublishing

/// The publisher over real HTTP on loopback, asked by curl with the Host header a client sends.
@Suite("WKD publisher over HTTP")
struct WKDServingTests {
    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]
    }

    /// `curl` asking `path` of `host` at the listener.
    static func fetch(_ port: Int, host: String, _ path: String, method: String = "GET", headers: [String] = []) async throws -> Reply {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wkd-fetch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let headerFile = directory.appendingPathComponent("headers").path
        let bodyFile = directory.appendingPathComponent("body").path
        var arguments = ["-s", "--path-as-is", "-D", headerFile, "-o", bodyFile, "-H", "Host: \(host)", method == "HEAD" ? "-I" : "-X", method]
        if method == "HEAD" { arguments.removeLast() }
        for header in headers { arguments += ["-H", header] }
        arguments.append("http://127.0.0.1:\(port)\(path)")
        _ = try await ChildProcess.run("/usr/bin/curl", arguments)
        let lines = try String(contentsOfFile: headerFile, encoding: .utf8).split(separator: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))).map(Array.init) ?? []
        return Reply(status: status, headers: fields, body: body)
    }

    /// The publisher's listener over `world`'s entries, loaded once.
    func serving(_ world: WKDWorld, _ body: (Int) async throws -> Void) async throws {
        try await world.refreshAll()
        let content = WKDContent()
        try await content.reloadAll(from: world.wkdPool)
        try await HTTPTestClient.serving(token: nil, logger: world.db.logger, { onListening in
            WKDApplication.server(content: content, pool: world.wkdPool, host: "127.0.0.1", port: 0, logger: world.db.logger, onListening: onListening)
        }) { client in try await body(client.base.port!) }
    }

    @Test("Both methods serve the minimised key: binary, ETag, CORS; HEAD; 304 on If-None-Match; ?l= ignored")
    func methods() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await serving(world) { port in
            let hash = try WKDWorld.hash("Ada.Lovelace@example.org")
            let advanced = try await Self.fetch(port, host: "openpgpkey.example.org", "/.well-known/openpgpkey/example.org/hu/\(hash)?l=Ada.Lovelace")
            let direct = try await Self.fetch(port, host: "example.org:443", "/.well-known/openpgpkey/hu/\(hash)")
            for reply in [advanced, direct] {
                #expect(reply.status == 200)
                #expect(reply.headers["content-type"] == "application/octet-stream")
                #expect(reply.headers["access-control-allow-origin"] == "*")
                #expect(try WKDWorld.userIDs(reply.body) == ["Other <Ada.Lovelace@example.org>"])
                #expect(try Certificate.parse(reply.body).first?.fingerprint.hex == world.fingerprint)
            }
            let etag = try #require(advanced.headers["etag"])
            #expect(direct.headers["etag"] == etag)
            for query in ["?l=ada.lovelace", "?l=%41da.Lovelace", "?l=somebody-else", ""] {
                #expect(try await Self.fetch(port, host: "openpgpkey.example.org", "/.well-known/openpgpkey/example.org/hu/\(hash)\(query)").body == advanced.body)
            }
            let head = try await Self.fetch(port, host: "example.org", "/.well-known/openpgpkey/hu/\(hash)", method: "HEAD")
            #expect(head.status == 200 && head.headers["etag"] == etag && head.headers["content-length"] == String(advanced.body.count))
            let cached = try await Self.fetch(port, host: "example.org", "/.well-known/openpgpkey/hu/\(hash)", headers: ["If-None-Match: \(etag)"])
            #expect(cached.status == 304 && cached.body.isEmpty)
            #expect(cached.headers["etag"] == etag && cached.headers["cache-control"] == "public, max-age=300" && cached.headers["content-length"] == nil)
            let stale = try await Self.fetch(port, host: "example.org", "/.well-known/openpgpkey/hu/\(hash)", headers: ["If-None-Match: \"other\""])
            #expect(stale.status == 200)

            // The policy file of each method (empty: no WKS).
            for (host, path) in [("openpgpkey.example.org", "/.well-known/openpgpkey/example.org/policy"), ("example.org", "/.well-known/openpgpkey/policy")] {
                let policy = try await Self.fetch(port, host: host, path)
                #expect(policy.status == 200 && policy.body.isEmpty && policy.headers["access-control-allow-origin"] == "*")
            }
            #expect(try await Self.fetch(port, host: "example.org", "/.well-known/openpgpkey/hu/\(hash)", method: "POST").status == 405)
            // The advanced path's domain as clients may write it: upper case, a trailing dot, percent-encoded.
            for domain in ["EXAMPLE.ORG", "example.org.", "%65xample.org"] {
                #expect(try await Self.fetch(port, host: "OpenPGPKey.Example.Org", "/.well-known/openpgpkey/\(domain)/hu/\(hash)").body == advanced.body)
            }
        }
    }

    @Test("Until the content is loaded WKD answers 503 with Retry-After, never a 404 that caches would keep")
    func notLoadedYet() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await HTTPTestClient.serving(token: nil, logger: world.db.logger, { onListening in
            WKDApplication.server(content: WKDContent(), pool: world.wkdPool, host: "127.0.0.1", port: 0, logger: world.db.logger, onListening: onListening)
        }) { client in
            let reply = try await Self.fetch(client.base.port!, host: "example.org", "/.well-known/openpgpkey/hu/\(try WKDWorld.hash("ada@example.org"))")
            #expect(reply.status == 503 && reply.headers["retry-after"] == "5" && reply.headers["cache-control"] == "no-store")
            #expect(try await Self.fetch(client.base.port!, host: "127.0.0.1", "/healthz").status == 503)
        }
    }

    /// Raw bytes to the listener and everything it answers until it closes (bash's /dev/tcp: no client tidies them).
    static func raw(_ port: Int, _ request: String) async throws -> String {
        try await ChildProcess.run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port); printf '%s' \"$1\" >&3; timeout 5 cat <&3", "raw", request])
    }

    @Test("Pipelined requests are answered in order; an unparsable request is 400 and the connection ends")
    func rawRequests() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await serving(world) { port in
            let hash = try WKDWorld.hash("analyst@example.org")
            let pipelined = try await Self.raw(port, "GET /.well-known/openpgpkey/policy HTTP/1.1\r\nHost: example.org\r\n\r\n"
                + "HEAD /.well-known/openpgpkey/hu/\(hash) HTTP/1.1\r\nHost: example.org\r\n\r\n"
                + "GET /nothing HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n")
            let statuses = pipelined.components(separatedBy: "\r\n").filter { $0.hasPrefix("HTTP/1.1 ") }
            #expect(statuses == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"])
            #expect(pipelined.contains("ETag: \"") && pipelined.hasSuffix("not found\n"))
            let garbage = try await Self.raw(port, "\u{01}\u{02} nonsense\r\n\r\n")
            #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && garbage.contains("Connection: close"))
        }
    }

    @Test("gpg-wks-client computes the same URLs")
    func sameURLAsGnuPG() async throws {
        for address in WKDWorld.addresses {
            let printed = try await ChildProcess.run("/usr/lib/gnupg/gpg-wks-client", ["--print-wkd-url", address])
            let parsed = try EmailAddress(address)
            let hash = WKDHash.hash(localPart: parsed.localPart)
            // gpg-wks-client prints the advanced method's URL; its l= is the local part lower-cased (the draft's
            // example keeps it as written), which the publisher ignores anyway: requests are matched by hash.
            let url = printed.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(url.split(separator: "?").first.map(String.init)
                    == "https://openpgpkey.\(parsed.domain.ascii)/.well-known/openpgpkey/\(parsed.domain.ascii)/hu/\(hash)")
            let hashed = try await ChildProcess.run("/usr/lib/gnupg/gpg-wks-client", ["--print-wkd-hash", address])
            // "<hash> <address lower-cased>"
            #expect(hashed.split(separator: " ").first.map(String.init) == hash)
        }
    }

    @Test("Everything not published is the same plain 404: disabled, unbound, custom domain without the service, not ours, malformed")
    func indistinguishable() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        _ = try await world.aliases.setEnabled(false, "analyst@example.org", of: world.account, by: WKDWorld.op)
        try await world.keystore.unbind("ada@example.org", of: world.account, by: "test")
        try await serving(world) { port in
            let asks: [(String, String)] = [
                ("openpgpkey.example.org", "/.well-known/openpgpkey/example.org/hu/\(try WKDWorld.hash("analyst@example.org"))"),
                ("example.org", "/.well-known/openpgpkey/hu/\(try WKDWorld.hash("ada@example.org"))"),
                ("example.org", "/.well-known/openpgpkey/hu/\(try WKDWorld.hash("nobody@example.org"))"),
                ("openpgpkey.ada.example", "/.well-known/openpgpkey/ada.example/hu/\(try WKDWorld.hash("ada@ada.example"))"),
                ("openpgpkey.ada.example", "/.well-known/openpgpkey/ada.example/policy"),
                ("openpgpkey.elsewhere.example", "/.well-known/openpgpkey/elsewhere.example/hu/\(try WKDWorld.hash("ada@elsewhere.example"))"),
                ("openpgpkey.example.org", "/.well-known/openpgpkey/elsewhere.example/hu/\(try WKDWorld.hash("ada.lovelace@example.org"))"),
                ("example.org", "/.well-known/openpgpkey/hu/not-a-hash"),
                ("example.org", "/.well-known/openpgpkey/hu/../../etc/passwd"),
                ("example.org", "/.well-known/openpgpkey/"),
            ]
            var replies: [Reply] = []
            for (host, path) in asks { replies.append(try await Self.fetch(port, host: host, path)) }
            let first = try #require(replies.first)
            #expect(first.status == 404)
            for reply in replies {
                #expect(reply.status == first.status && reply.body == first.body)
                #expect(reply.headers.filter { $0.key != "date" } == first.headers.filter { $0.key != "date" })
            }
        }
    }

    @Test("A NOTIFY brings each change into every instance's memory")
    func followsChanges() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let content = WKDContent()
        let (loaded, announce) = AsyncStream<Void>.makeStream()
        let sync = WKDContentSync(content: content, pool: world.wkdPool, listening: PostgresConfiguration(conninfo: world.db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_wkd@"),
                                                                                                       applicationName: "wkd-test"),
                                  logger: world.db.logger, onLoaded: { announce.yield() })
        let group = ServiceGroup(services: [sync], gracefulShutdownSignals: [], logger: world.db.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = loaded.makeAsyncIterator()
            _ = await iterator.next()
            #expect(content.count == 0)
            try await world.refreshAll()
            try await world.db.eventually("the entries arrive") { content.count == 3 }
            #expect(!content.serves("ada.example"))
            try await WKDServiceDomains(pool: world.db.pool(as: "palisade_admin"), logger: world.db.logger).enable("ada.example", by: "test")
            try await world.db.eventually("the domain is served") { content.serves("ada.example") }
            try await world.keystore.unbind("analyst@example.org", of: world.account, by: "test")
            try await world.refreshAll()
            try await world.db.eventually("the unbound entry goes, the custom domain's arrives") {
                let gone = content.entry(domain: "example.org", hash: try WKDWorld.hash("analyst@example.org")) == nil
                let arrived = content.entry(domain: "ada.example", hash: try WKDWorld.hash("ada@ada.example")) != nil
                return gone && arrived
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
