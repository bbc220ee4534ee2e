import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import ServiceLifecycle

/// A service's HTTP API running on a free loopback port for one test, and a plain HTTP client for it.
public struct HTTPTestClient: Sendable {
    public let base: URL
    /// Sent as `Authorization: Bearer …` unless a request says otherwise.
    public let token: String?

    public struct Reply: Sendable {
        public let status: Int
        public let body: Data
        public let headers: [String: String]
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// The `error.code` of a JSON error body.
        public var code: String? { (json["error"] as? [String: Any])?["code"] as? String }
        public var message: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Starts the service `make` builds (it reports its bound port through the closure it is given),
    /// runs `body` against it, and shuts it down gracefully.
    public static func serving(
        token: String?, logger: Logger, _ make: (@escaping @Sendable (Int) async -> Void) -> any Service,
        _ body: (HTTPTestClient) async throws -> Void
    ) async throws {
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let service = make { listening.yield($0) }
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw URLError(.cannotConnectToHost) }
            do {
                try await body(HTTPTestClient(base: URL(string: "http://127.0.0.1:\(port)")!, token: token))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    public func request(_ method: String, _ path: String, json: String? = nil, body: Data? = nil, contentType: String = "application/json",
                        token: String?? = .none) async throws -> Reply {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!)
        request.httpMethod = method
        if let bearer = token ?? self.token { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let data = json.map({ Data($0.utf8) }) ?? body {
            request.httpBody = data
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

    /// `text` percent-encoded as a path segment (`@`, `+` and non-ASCII escaped).
    public static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
