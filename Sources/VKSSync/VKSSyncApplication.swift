import Core
import Foundation
import Logging

/// Builds `palisade-vks-sync`'s job handlers; the executable and the tests both call this.
public enum VKSSyncApplication {
    /// The handlers of the `vks` queue: `vks.refresh {fingerprint}` and the periodic `vks.schedule`.
    public static func handlers(_ refresher: VKSRefresher, scheduleInterval: Duration, requestsPerMinute: Int,
                                logger: Logger) -> [String: JobWorker.Handler] {
        [
            VKSRefreshJob.kind: { job in
                let payload = try job.decodePayload(as: VKSRefreshJob.Payload.self)
                guard let fingerprint = try? Fingerprint(payload.fingerprint) else {
                    throw JobFailure("not a fingerprint: \(payload.fingerprint.prefix(80))", permanent: true)
                }
                do {
                    _ = try await refresher.refresh(fingerprint)
                } catch let failure as VKSRefreshFailure {
                    // The server said when to come back: wait until then, without spending an attempt.
                    if let until = failure.retryAfter, until > Date() {
                        throw JobFailure(failure.description, postponedFor: .seconds(until.timeIntervalSinceNow.rounded(.up)))
                    }
                    throw failure
                }
            },
            VKSScheduleJob.kind: { _ in
                try await VKSScheduleJob.queueDue(pool: refresher.pool, interval: scheduleInterval, requestsPerMinute: requestsPerMinute,
                                                  logger: logger)
            },
        ]
    }
}
