import CoreMetrics
import Synchronization

/// A metrics backend that keeps the worker's claim latencies (`palisade_job_claim_seconds`) in memory so
/// the benchmark can print percentiles; every other metric is dropped.
final class ClaimLatencyRecorder: MetricsFactory, Sendable {
    private let values = Mutex<[Double]>([])

    func reset() { values.withLock { $0.removeAll() } }
    func sorted() -> [Double] { values.withLock { $0.sorted() } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { NOOPMetricsHandler.instance }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { NOOPMetricsHandler.instance }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { NOOPMetricsHandler.instance }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == "palisade_job_claim_seconds" ? Recording(recorder: self) : NOOPMetricsHandler.instance
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    final class Recording: TimerHandler, Sendable {
        let recorder: ClaimLatencyRecorder
        init(recorder: ClaimLatencyRecorder) { self.recorder = recorder }
        func recordNanoseconds(_ duration: Int64) { recorder.values.withLock { $0.append(Double(duration)) } }
    }
}
