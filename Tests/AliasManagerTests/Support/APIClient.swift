import AliasAPI
import CoreTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPService
import Logging
import ServiceLifecycle

/// The alias manager's HTTP API running on a free loopback port for one test, and a plain HTTP client.
struct APIClient {
    static let token = "0123456789abcdef0123456789abcdef-webmail"
    let base: URL

    struct Reply {
        let status: Int
        let body: Data
        let headers: [String: String]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// The `error.code` of a JSON error body.
        var code: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var message: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Starts the API for `world`'s directory, runs `body` against it, and shuts the server down.
    static func with(_ world: AliasWorld, tokens: [String] = ["webmail:\(token)"], _ body: (APIClient) async throws -> Void) async throws {
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let application = AliasApplication.make(
            directory: world.directory, tokens: BearerTokens(tokens), host: "127.0.0.1", port: 0, logger: world.db.logger,
            onListening: { listening.yield($0) }
        )
        let group = ServiceGroup(services: [application], gracefulShutdownSignals: [], logger: world.db.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw URLError(.cannotConnectToHost) }
            do {
                try await body(APIClient(base: URL(string: "http://127.0.0.1:\(port)")!))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func request(_ method: String, _ path: String, json: String? = nil, contentType: String = "application/json",
                 token: String? = APIClient.token) async throws -> Reply {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return Reply(status: http.statusCode, body: data, headers: headers)
    }

    /// `address` percent-encoded as a path segment (`@`, `+` and non-ASCII escaped).
    static func segment(_ address: String) -> String {
        address.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? address
    }
}
