import Core
import CoreTestSupport
import Foundation
import Hummingbird
import Logging
import OpenPGP
import Synchronization

/// A validating key server for the tests: Hagrid's VKS API as keys.openpgp.org documents it, behind the
/// test world's nginx (`https://keys.secure.palisade.example:PORT`), as Hagrid runs behind nginx.
///
/// - `GET /vks/v1/by-fingerprint/<FPR>` (primary key or subkey, upper-case hex), `/by-keyid/<KEYID>`
///   and `/by-email/<address>`: the armored key (`application/pgp-keys`), or 404 with a JSON error. A key
///   is found by e-mail only for addresses its owner verified (`publish(_:verified:)`).
/// - `POST /vks/v1/upload` `{"keytext"}`: stores the key, answers `{key_fpr, token, status}` with each
///   of its addresses `unpublished` (or `published` once verified); `POST /vks/v1/request-verify`
///   `{token, addresses}` marks them `pending`; an unknown token is 400 with a JSON error.
/// - Any path set with `limit(_:retryAfter:)` answers 429 with `Retry-After`; one set with
///   `fail(_:status:)` answers that server error; a look-up by fingerprint set with `slow(_:by:)` answers late.
///
/// One server per test process on the world's backend port, shared by every test; tests use addresses
/// of their own, so they do not see each other's keys. `requests` records every path asked.
final class TestVKS: Sendable {
    struct Key {
        var armored: String
        var fingerprints: [String]
        var keyIDs: [String]
        var addresses: [String]
        var verified: Set<String>
    }

    struct State {
        var keys: [String: Key] = [:]
        var tokens: [String: String] = [:]
        var pending: Set<String> = []
        var limited: [String: Int] = [:]
        var failing: [String: Int] = [:]
        var slow: [String: Duration] = [:]
        var requests: [String] = []
    }

    let state = Mutex(State())

    private static let shared = Mutex<Task<TestVKS, any Error>?>(nil)

    /// The process's server, started on first use.
    static func running(in world: TestWorld) async throws -> TestVKS {
        let task = shared.withLock { task in
            if let task { return task }
            let started = Task { try await TestVKS.start(port: world.vksBackendPort) }
            task = started
            return started
        }
        return try await task.value
    }

    private static func start(port: Int) async throws -> TestVKS {
        let server = TestVKS()
        let (events, continuation) = AsyncStream<Result<Void, any Error>>.makeStream()
        let app = Application(
            router: server.router(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: "test-vks"),
            onServerRunning: { _ in continuation.yield(.success(())) },
            logger: Logger(label: "palisade.test.vks")
        )
        Task.detached {
            do {
                try await app.runService(gracefulShutdownSignals: [])
                continuation.yield(.failure(TestSetupError("the VKS test server stopped")))
            } catch {
                continuation.yield(.failure(TestSetupError("the VKS test server cannot listen on 127.0.0.1:\(port): \(error)")))
            }
        }
        var iterator = events.makeAsyncIterator()
        guard let first = await iterator.next() else { throw TestSetupError("the VKS test server did not start") }
        try first.get()
        return server
    }

    /// Serves `certificate` by fingerprint and key ID; by e-mail for the `verified` addresses.
    func publish(_ certificate: [UInt8], verified: [String]) throws {
        let key = try Self.key(certificate)
        state.withLock { state in
            var stored = key
            stored.verified = Set(verified.map { $0.lowercased() })
            state.keys[key.fingerprints[0]] = stored
        }
    }

    /// Makes `path` (e.g. `/vks/v1/by-email/x@y`) answer 429 with `Retry-After: seconds`.
    func limit(_ path: String, retryAfter seconds: Int) {
        state.withLock { $0.limited[path] = seconds }
    }

    /// Makes `path` answer `status` (a 5xx), or answer normally again with nil.
    func fail(_ path: String, status: Int?) {
        state.withLock { $0.failing[path] = status }
    }

    /// Makes `path` answer only after `delay` (nil: at once again).
    func slow(_ path: String, by delay: Duration?) {
        state.withLock { $0.slow[path] = delay }
    }

    /// Serves nothing for `fingerprint` any more (404).
    func withdraw(_ fingerprint: String) {
        state.withLock { _ = $0.keys.removeValue(forKey: fingerprint) }
    }

    /// How many requests for `path` arrived.
    func requests(for path: String) -> Int {
        state.withLock { $0.requests.filter { $0 == path }.count }
    }

    static func key(_ certificate: [UInt8]) throws -> Key {
        guard let parsed = try Certificate.parse(certificate).first else { throw TestSetupError("no certificate") }
        let fingerprints = [parsed.fingerprint.hex] + parsed.subkeys.map(\.key.fingerprint.hex)
        return Key(armored: Armor.encode(certificate, as: .publicKey), fingerprints: fingerprints,
                   keyIDs: fingerprints.map { String($0.suffix(16)) },
                   addresses: parsed.userIDs.compactMap { $0.email?.canonical }, verified: [])
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/vks/v1/by-fingerprint/:value") { request, context in
            if let delay = self.state.withLock({ $0.slow[request.uri.path] }) { try await Task.sleep(for: delay) }
            return self.lookup(request, context) { key, value in key.fingerprints.contains(value) }
        }
        router.get("/vks/v1/by-keyid/:value") { request, context in
            self.lookup(request, context) { key, value in key.keyIDs.contains(value) }
        }
        router.get("/vks/v1/by-email/:value") { request, context in
            self.lookup(request, context) { key, value in key.verified.contains(value.lowercased()) }
        }
        router.post("/vks/v1/upload") { request, context -> Response in
            if let limited = self.limited(request) { return limited }
            struct Upload: Decodable { let keytext: String }
            guard let upload = try? await request.decode(as: Upload.self, context: context),
                  let key = try? Self.key(Array(upload.keytext.utf8)) else {
                return Self.error(.badRequest, "Parsing of key data failed.")
            }
            let token = UUID().uuidString
            let status = self.state.withLock { state -> [String: String] in
                let fingerprint = key.fingerprints[0]
                var stored = state.keys[fingerprint] ?? key
                stored.armored = key.armored
                stored.addresses = key.addresses
                state.keys[fingerprint] = stored
                state.tokens[token] = fingerprint
                return Dictionary(uniqueKeysWithValues: key.addresses.map { ($0, stored.verified.contains($0) ? "published" : "unpublished") })
            }
            return Self.json(["key_fpr": .string(key.fingerprints[0]), "token": .string(token), "status": .object(status)])
        }
        router.post("/vks/v1/request-verify") { request, context -> Response in
            if let limited = self.limited(request) { return limited }
            struct Verify: Decodable { let token: String; let addresses: [String] }
            guard let verify = try? await request.decode(as: Verify.self, context: context) else {
                return Self.error(.badRequest, "Malformed request.")
            }
            let answer = self.state.withLock { state -> (String, [String: String])? in
                guard let fingerprint = state.tokens[verify.token], let key = state.keys[fingerprint] else { return nil }
                var status: [String: String] = [:]
                for address in key.addresses {
                    if key.verified.contains(address) {
                        status[address] = "published"
                    } else if verify.addresses.map({ $0.lowercased() }).contains(address) {
                        state.pending.insert("\(fingerprint) \(address)")
                        status[address] = "pending"
                    } else {
                        status[address] = state.pending.contains("\(fingerprint) \(address)") ? "pending" : "unpublished"
                    }
                }
                return (fingerprint, status)
            }
            guard let (fingerprint, status) = answer else { return Self.error(.badRequest, "Upload session expired. Please try again.") }
            return Self.json(["key_fpr": .string(fingerprint), "token": .string(verify.token), "status": .object(status)])
        }
        return router
    }

    func lookup(_ request: Request, _ context: BasicRequestContext, matching: (Key, String) -> Bool) -> Response {
        if let limited = limited(request) { return limited }
        let value = (context.parameters.get("value") ?? "").removingPercentEncoding ?? ""
        guard let key = state.withLock({ $0.keys.values.first { matching($0, value) } }) else {
            return Self.error(.notFound, "No key found for the given search term.")
        }
        return Response(status: .ok, headers: [.contentType: "application/pgp-keys"], body: ResponseBody(byteBuffer: ByteBuffer(string: key.armored)))
    }

    /// Records the request; the 429 answer when its path is limited, the server error when it fails.
    func limited(_ request: Request) -> Response? {
        let path = request.uri.path
        let (limit, failure) = state.withLock { state -> (Int?, Int?) in
            state.requests.append(path)
            return (state.limited[path], state.failing[path])
        }
        if let failure { return Self.error(HTTPResponse.Status(code: failure), "Internal server error.") }
        guard let seconds = limit else { return nil }
        var response = Self.error(.tooManyRequests, "Rate limit exceeded.")
        response.headers[.retryAfter] = String(seconds)
        return response
    }

    enum JSON: Encodable {
        case string(String)
        case object([String: String])
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let text): try container.encode(text)
            case .object(let object): try container.encode(object)
            }
        }
    }

    static func json(_ value: [String: JSON]) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let data = (try? JSONEncoder().encode(["error": message])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
