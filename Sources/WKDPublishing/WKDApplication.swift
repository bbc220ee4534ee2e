import Core
import HTTPService
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds `palisade-wkd`'s parts: the HTTP listener (WKD under `/.well-known/openpgpkey/`, `/healthz`,
/// `/metrics`), the content kept in memory, and the job worker that recomputes entries. The executable
/// and the tests both call this.
public enum WKDApplication {
    public static func router(content: WKDContent, pool: PostgresPool) -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: WKDMiddleware(content: content))
        // Healthy once the content is loaded (before, keys it has would be 404) and while PostgreSQL answers.
        let database = OperationalRoutes.databaseCheck(pool)
        OperationalRoutes.add(to: router, healthy: { content.isLoaded ? await database() : false })
        return router
    }

    /// The handlers of the publisher's job queue (`wkd`).
    public static func handlers(_ publication: WKDPublication) -> [String: JobWorker.Handler] {
        [
            WKDRefreshJob.kind: { job in
                try await publication.refresh(try job.decodePayload(as: WKDRefreshJob.Payload.self).address)
            },
            WKDReconcileJob.kind: { _ in
                _ = try await publication.reconcile()
            },
        ]
    }
}
