import Core
import Hummingbird
import Logging
import ServiceLifecycle

/// The shape every Palisade HTTP service shares: `/healthz` and `/metrics` open, the versioned API behind
/// bearer tokens and the service's error mapping, request metrics and logs, and a listener that reports
/// the port it bound.
public enum ServiceApplication {
    /// A router with the operational routes, and its `/v1` group behind `tokens` and `errors`, for the
    /// service to add its routes to.
    public static func router(
        pool: PostgresPool, tokens: BearerTokens, errors: ServiceErrorMiddleware,
        routes: (RouterGroup<ServiceRequestContext>) -> Void
    ) -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        OperationalRoutes.add(to: router, healthy: OperationalRoutes.databaseCheck(pool))
        routes(router.group("v1").add(middleware: BearerTokenMiddleware(tokens: tokens)).add(middleware: errors))
        return router
    }

    /// The listener as a `Service`; `onListening` receives the bound port (useful with port 0).
    public static func make(
        _ router: Router<ServiceRequestContext>, serverName: String, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("listening", metadata: ["http.host": "\(host)", "http.port": "\(bound)", "http.tls": "false"])
                await onListening(bound)
            },
            logger: logger
        )
    }

    /// What a service's `main` does once its parts are built: warns when no token is configured, runs the
    /// listener (and the services that run `alongside` it) in the process's service group, and tells systemd
    /// it is ready once the port is bound.
    public static func run(
        _ router: Router<ServiceRequestContext>, serverName: String, host: String, port: Int, tokens: BearerTokens,
        tokensKey: String, logger: Logger, alongside: [any Service] = []
    ) async throws {
        if tokens.isEmpty {
            logger.warning("\(tokensKey) is empty: every API request will be refused")
        }
        let readiness = ServiceReadiness()
        let listener = make(router, serverName: serverName, host: host, port: port, logger: logger) { _ in readiness.markReady() }
        try await PalisadeServiceGroup(services: [listener] + alongside, logger: logger, readiness: readiness).run()
    }
}
