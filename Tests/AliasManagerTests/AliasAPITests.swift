import Aliases
import Core
import CoreTestSupport
import Foundation
import Testing

/// The `palisade-aliases` HTTP API over real HTTP on loopback, with the routes, middleware and error
/// mapping the service runs.
@Suite("Alias manager HTTP API")
struct AliasAPITests {
    @Test("Without a valid bearer token nothing is answered; /healthz and /metrics need none")
    func authentication() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        try await APIClient.with(world) { api in
            let missing = try await api.request("GET", "/v1/accounts/\(world.alice)/addresses", token: .some(nil))
            #expect(missing.status == 401 && missing.code == "unauthorized")
            #expect(missing.headers["www-authenticate"]?.hasPrefix("Bearer realm=\"palisade\"") == true)
            let wrong = try await api.request("GET", "/v1/accounts/\(world.alice)/addresses", token: APIClient.token + "x")
            #expect(wrong.status == 401 && wrong.headers["www-authenticate"]?.contains("invalid_token") == true)
            let prefix = try await api.request("GET", "/v1/accounts/\(world.alice)/addresses", token: String(APIClient.token.dropLast()))
            #expect(prefix.status == 401)
            #expect(try await api.request("GET", "/healthz", token: .some(nil)).status == 200)
            let metrics = try await api.request("GET", "/metrics", token: .some(nil))
            #expect(metrics.status == 200)
        }
        try await APIClient.with(world, tokens: []) { api in
            let reply = try await api.request("GET", "/v1/accounts/\(world.alice)/addresses")
            #expect(reply.status == 401)
        }
    }

    @Test("Accounts, aliases and custom domains through the API; a refused deletion is 403 alias_deletion_forbidden")
    func lifecycle() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        try await APIClient.with(world) { api in
            let created = try await api.request("POST", "/v1/accounts", json: #"{"primaryAddress": "Carol@Mail.Example"}"#)
            #expect(created.status == 201)
            let carol = try #require(created.json["id"] as? Int)
            #expect(created.json["primaryAddress"] as? String == "carol@mail.example")
            let again = try await api.request("POST", "/v1/accounts", json: #"{"primaryAddress": "carol@mail.example"}"#)
            #expect(again.status == 409 && again.code == "address_taken")

            let alias = try await api.request("POST", "/v1/accounts/\(carol)/aliases", json: #"{"address": "tag+x@mail.example"}"#)
            #expect(alias.status == 201 && alias.json["address"] as? String == "tag+x@mail.example" && alias.json["deletable"] as? Bool == false)
            let segment = APIClient.segment("tag+x@mail.example")
            let disabled = try await api.request("POST", "/v1/accounts/\(carol)/aliases/\(segment)/disable")
            #expect(disabled.status == 200 && disabled.json["enabled"] as? Bool == false)
            let enabled = try await api.request("POST", "/v1/accounts/\(carol)/aliases/\(segment)/enable")
            #expect(enabled.status == 200 && enabled.json["enabled"] as? Bool == true)

            let refused = try await api.request("DELETE", "/v1/accounts/\(carol)/aliases/\(segment)")
            #expect(refused.status == 403 && refused.code == "alias_deletion_forbidden")
            #expect(refused.message.contains("platform-domain aliases cannot be deleted since 2022-01-01T00:00:00Z"))
            #expect(try await world.exists("tag+x@mail.example"))
            let primary = try await api.request("DELETE", "/v1/accounts/\(carol)/aliases/\(APIClient.segment("carol@mail.example"))")
            #expect(primary.status == 403 && primary.code == "primary_address_protected")

            let domain = try await api.request("POST", "/v1/accounts/\(carol)/domains", json: #"{"name": "carol.example"}"#)
            #expect(domain.status == 201 && domain.json["kind"] as? String == "custom")
            #expect(try await api.request("POST", "/v1/accounts/\(carol)/aliases", json: #"{"address": "me@carol.example"}"#).status == 201)
            #expect(try await api.request("DELETE", "/v1/accounts/\(carol)/aliases/\(APIClient.segment("me@carol.example"))").status == 204)
            let gone = try await api.request("DELETE", "/v1/accounts/\(carol)/aliases/\(APIClient.segment("me@carol.example"))")
            #expect(gone.status == 404 && gone.code == "address_not_found")

            let listed = try await api.request("GET", "/v1/accounts/\(carol)/addresses")
            let addresses = (listed.json["addresses"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
            #expect(addresses == ["carol@mail.example", "tag+x@mail.example"])
            let domains = try await api.request("GET", "/v1/accounts/\(carol)/domains")
            #expect((domains.json["domains"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["mail.example", "other.example", "carol.example"])

            let closed = try await api.request("POST", "/v1/accounts/\(carol)/close")
            #expect(closed.status == 200 && closed.json["state"] as? String == "closed")
            let afterClose = try await api.request("POST", "/v1/accounts/\(carol)/aliases", json: #"{"address": "late@mail.example"}"#)
            #expect(afterClose.status == 409 && afterClose.code == "account_closed")
            #expect(try await api.request("GET", "/v1/accounts/999999/addresses").code == "account_not_found")
            #expect(try await api.request("GET", "/v1/accounts/abc").status == 404)
        }
        let actors = try await world.db.pool.query("SELECT DISTINCT actor FROM audit_log WHERE subject = 'tag+x@mail.example'").map { try $0.decode("actor", as: String.self) }
        #expect(actors == ["api:webmail"])
    }

    @Test("Bad requests get a clear error and change nothing", arguments: [
        ("not json", "application/json", 400, "invalid_request", "not valid JSON"),
        (#"{"adress": "x@mail.example"}"#, "application/json", 400, "invalid_request", "\"address\" is missing"),
        (#"{"address": 42}"#, "application/json", 400, "invalid_request", "must be a string"),
        (#"{"address": null}"#, "application/json", 400, "invalid_request", "not null"),
        (#"{"address": "x@mail.example"}"#, "text/plain", 415, "unsupported_media_type", "application/json"),
        (#"{"address": "x y@mail.example"}"#, "application/json", 422, "invalid_address", "needs quoting"),
        (#"{"address": "x@mail.example'; DROP TABLE addresses; --"}"#, "application/json", 422, "invalid_address", "invalid"),
        // "LARGE" stands for 20,000 bytes, so the test's name stays readable.
        (#"{"address": "LARGE@mail.example"}"#, "application/json", 413, "request_too_large", "larger than"),
        (#"{"address": "hostmaster@mail.example"}"#, "application/json", 422, "reserved_address", "reserved role name"),
    ])
    func badRequests(body: String, contentType: String, status: Int, code: String, message: String) async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        let before = try await world.snapshot()
        try await APIClient.with(world) { api in
            let json = body.replacingOccurrences(of: "LARGE", with: String(repeating: "a", count: 20_000))
            let reply = try await api.request("POST", "/v1/accounts/\(world.alice)/aliases", json: json, contentType: contentType)
            #expect(reply.status == status, "\(reply.text)")
            #expect(reply.code == code)
            #expect(reply.message.contains(message), "\(reply.message)")
        }
        #expect(try await world.snapshot() == before)
        let audited = try await world.db.pool.query("""
            SELECT actor, action, details->>'code' AS code FROM audit_log WHERE details->>'outcome' = 'refused'
            """).map { [try $0.decode("actor", as: String.self), try $0.decode("action", as: String.self), try $0.decode("code", as: String.self)] }
        #expect(audited.count == 1 && audited.first?[0] == "api:webmail" && audited.first?[2] == code, "\(audited)")
    }
}
