import Core
import Hummingbird

/// `/healthz` and `/metrics`, mounted by every service without authentication (they listen on loopback
/// unless configured otherwise, and say nothing about users).
public enum OperationalRoutes {
    /// `healthy` answers whether the service can do its work (e.g. reach PostgreSQL); a failing check
    /// gives 503 so load balancers and `make run` see it.
    public static func add(to router: Router<ServiceRequestContext>, healthy: @escaping @Sendable () async -> Bool) {
        router.get("healthz") { _, _ -> Response in
            let ok = await healthy()
            return Response(status: ok ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain", .cacheControl: "no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: ok ? "ok\n" : "unavailable\n")))
        }
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: MetricsExposition.contentType],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: MetricsExposition.render())))
        }
    }

    /// A health check that PostgreSQL answers `SELECT 1`.
    public static func databaseCheck(_ pool: PostgresPool) -> @Sendable () async -> Bool {
        { (try? await pool.withConnection { try await $0.query("SELECT 1") }) != nil }
    }
}
