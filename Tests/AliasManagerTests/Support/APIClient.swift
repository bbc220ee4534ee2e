import AliasAPI
import CoreTestSupport
import HTTPService

/// The alias manager's HTTP API for one test, with the token of a caller named `webmail`.
enum APIClient {
    static let token = "0123456789abcdef0123456789abcdef-webmail"

    static func with(_ world: AliasWorld, tokens: [String] = ["webmail:\(token)"], _ body: (HTTPTestClient) async throws -> Void) async throws {
        try await HTTPTestClient.serving(token: token, logger: world.db.logger, { onListening in
            AliasApplication.make(directory: world.directory, tokens: BearerTokens(tokens), host: "127.0.0.1", port: 0, logger: world.db.logger,
                                  onListening: onListening)
        }, body)
    }

    static func segment(_ address: String) -> String { HTTPTestClient.segment(address) }
}
