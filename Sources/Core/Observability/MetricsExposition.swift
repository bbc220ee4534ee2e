import Metrics
import Prometheus
import Synchronization

/// The process's metrics registry and its Prometheus text exposition.
///
/// `bootstrap()` routes every swift-metrics call in the process into one registry; each service mounts
/// `render()` at `GET /metrics` on its HTTP listener.
public enum MetricsExposition {
    private static let installed = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Installs the Prometheus backend once; later calls return the same registry.
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        installed.withLock { current in
            if let current { return current }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30),
            ]
            MetricsSystem.bootstrap(factory)
            current = registry
            return registry
        }
    }

    /// The exposition text (`text/plain; version=0.0.4`), or an empty string before `bootstrap()`.
    public static func render() -> String {
        installed.withLock { $0?.emitToString() } ?? ""
    }

    /// The content type Prometheus expects for `render()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
