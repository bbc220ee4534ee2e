import Aliases
import Core
import HTTPService
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the `palisade-aliases` HTTP service: the v1 API behind bearer tokens, `/healthz` and
/// `/metrics`. The executable and the tests both call this, so tests exercise the routes as deployed.
public enum AliasApplication {
    public static func router(directory: AliasDirectory, tokens: BearerTokens) -> Router<ServiceRequestContext> {
        ServiceApplication.router(pool: directory.pool, tokens: tokens, errors: AliasErrorMapping.middleware(directory)) { v1 in
            AliasRoutes.add(to: v1, directory: directory)
        }
    }

    /// `onListening` receives the bound port (useful with port 0).
    public static func make(
        directory: AliasDirectory, tokens: BearerTokens, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        ServiceApplication.make(router(directory: directory, tokens: tokens), serverName: "palisade-aliases", host: host, port: port,
                                logger: logger, onListening: onListening)
    }
}
