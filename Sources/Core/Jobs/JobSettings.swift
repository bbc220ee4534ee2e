/// The `jobs.*` settings every worker reads.
public enum JobSettings {
    public static let lease = ConfigSetting.duration(
        "jobs.lease", default: .seconds(60),
        "How long a claimed job stays leased; renewed every third of it while the handler runs. A killed worker's jobs run again this long after it died.",
        range: .seconds(2)...Duration.seconds(3600)
    )
    public static let pollInterval = ConfigSetting.duration(
        "jobs.pollInterval", default: .seconds(2),
        "How often an idle worker looks for due jobs when no NOTIFY woke it (scheduled and retried jobs become due without one).",
        range: .milliseconds(50)...Duration.seconds(300)
    )
    public static let batchSize = ConfigSetting.int(
        "jobs.batchSize", default: 50, "Most jobs a worker claims in one statement.", range: 1...1000
    )
    public static let retryBase = ConfigSetting.duration(
        "jobs.retryBase", default: .seconds(5), "Back-off before the second attempt; it doubles for each later one.",
        range: .milliseconds(1)...Duration.seconds(3600)
    )
    public static let retryMaximum = ConfigSetting.duration(
        "jobs.retryMaximum", default: .seconds(3600), "Longest back-off between two attempts.",
        range: .milliseconds(1)...Duration.seconds(86_400)
    )
    public static let shutdownGrace = ConfigSetting.duration(
        "jobs.shutdownGrace", default: .seconds(10),
        "On SIGTERM, how long running handlers may finish before their jobs are released to other workers.",
        range: .zero...Duration.seconds(600)
    )
    public static let historyRetention = ConfigSetting.duration(
        "jobs.historyRetention", default: .seconds(7 * 86_400),
        "Completed and cancelled jobs are removed from the history after this long; failed ones stay until retried or removed.",
        range: .seconds(60)...Duration.seconds(3650 * 86_400)
    )

    public static let maxRunTime = ConfigSetting.duration(
        "jobs.maxRunTime", default: .seconds(600),
        "A handler running longer than this is cancelled and its lease left to expire, so a hung handler's job goes to another worker.",
        range: .seconds(1)...Duration.seconds(86_400)
    )
    public static let keepCompleted = ConfigSetting.bool(
        "jobs.keepCompleted", default: false,
        "Record every completed job in job_history (for auditing; it cost 10-25 % of peak throughput in the benchmark). Failed and cancelled jobs are always kept."
    )

    public static let all: [any AnyConfigSetting] = [lease, pollInterval, batchSize, retryBase, retryMaximum, shutdownGrace, historyRetention, maxRunTime, keepCompleted]
}
