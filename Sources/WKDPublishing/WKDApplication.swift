import Core
import Logging
import TLSCertificates

/// Builds `palisade-wkd`'s parts: the listener over the content kept in memory, and the handlers of the
/// job worker that recomputes entries. The executable and the tests both call this.
public enum WKDApplication {
    /// The listener: WKD, `/healthz` (healthy once the content is loaded, since keys it has would be 404
    /// before, and while PostgreSQL answers) and `/metrics`.
    public static func server(content: WKDContent, pool: PostgresPool, host: String, port: Int, logger: Logger,
                              onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> WKDServer {
        WKDServer(host: host, port: port, content: content, healthy: {
            guard content.isLoaded else { return false }
            return (try? await pool.withConnection { try await $0.query("SELECT 1") }) != nil
        }, logger: logger, onListening: onListening)
    }

    /// The HTTPS listener: WKD alone, with the certificate the client's SNI names.
    public static func httpsServer(content: WKDContent, certificates: CertificateDirectory, host: String, port: Int, logger: Logger,
                                   onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> WKDServer {
        WKDServer(host: host, port: port, content: content, certificates: certificates, healthy: nil, logger: logger, onListening: onListening)
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
