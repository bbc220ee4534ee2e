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
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        OperationalRoutes.add(to: router, healthy: OperationalRoutes.databaseCheck(directory.pool))
        let v1 = router.group("v1")
            .add(middleware: BearerTokenMiddleware(tokens: tokens))
            .add(middleware: AliasErrorMapping.middleware(directory))
        AliasRoutes.add(to: v1, directory: directory)
        return router
    }

    /// `onListening` receives the bound port (useful with port 0).
    public static func make(
        directory: AliasDirectory, tokens: BearerTokens, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        Application(
            router: router(directory: directory, tokens: tokens),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "palisade-aliases"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("listening", metadata: ["http.host": "\(host)", "http.port": "\(bound)"])
                await onListening(bound)
            },
            logger: logger
        )
    }
}
