import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// How a handler's failure should be treated.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// Retrying cannot help (malformed payload, a refused input): fail the job now.
    public let permanent: Bool
    /// Not a failure of the job: it must wait (a server's `Retry-After`). It runs again after this, and
    /// the attempt is not counted.
    public let postponement: Duration?

    public init(_ message: String, permanent: Bool = false) {
        self.message = message
        self.permanent = permanent
        postponement = nil
    }

    public init(_ message: String, postponedFor delay: Duration) {
        self.message = message
        permanent = false
        postponement = delay
    }

    public var description: String { message }
}

/// Runs the jobs of one queue with bounded concurrency, as a `Service` in a process's group.
///
/// The worker claims due jobs in batches, runs each kind's handler, and completes finished jobs in
/// batches too; while handlers run it renews their leases, and it takes over jobs whose leases expired
/// elsewhere. It sleeps until a NOTIFY for its queue or the poll interval. On graceful shutdown it stops
/// claiming, lets running handlers finish within the grace period, and releases the rest.
public final class JobWorker: Service, Sendable {
    public typealias Handler = @Sendable (ClaimedJob) async throws -> Void

    /// The worker's tuning; `init(_:)` reads it from `jobs.*` settings.
    public struct Options: Sendable {
        public var concurrency: Int
        public var batchSize: Int
        public var lease: Duration
        public var pollInterval: Duration
        public var retry: RetryPolicy
        public var shutdownGrace: Duration
        /// Completed and cancelled jobs older than this are pruned from the history; nil keeps them.
        public var historyRetention: Duration?
        /// A handler running longer than this is cancelled and its job left to another worker.
        public var maxRunTime: Duration

        public init(concurrency: Int = 8, batchSize: Int = 50, lease: Duration = .seconds(60), pollInterval: Duration = .seconds(2),
                    retry: RetryPolicy = RetryPolicy(), shutdownGrace: Duration = .seconds(10), historyRetention: Duration? = nil,
                    maxRunTime: Duration = .seconds(600)) {
            self.concurrency = concurrency
            self.batchSize = batchSize
            self.lease = lease
            self.pollInterval = pollInterval
            self.retry = retry
            self.shutdownGrace = shutdownGrace
            self.historyRetention = historyRetention
            self.maxRunTime = maxRunTime
        }

        public init(_ config: PalisadeConfiguration, concurrency: Int) {
            self.init(
                concurrency: concurrency,
                batchSize: JobSettings.batchSize.read(config),
                lease: JobSettings.lease.read(config),
                pollInterval: JobSettings.pollInterval.read(config),
                retry: RetryPolicy(base: JobSettings.retryBase.read(config), maximum: JobSettings.retryMaximum.read(config)),
                shutdownGrace: JobSettings.shutdownGrace.read(config),
                historyRetention: JobSettings.historyRetention.read(config),
                maxRunTime: JobSettings.maxRunTime.read(config)
            )
        }
    }

    public let queue: String
    public let options: Options
    let jobs: JobQueue
    let handlers: [String: Handler]
    let wakeups: JobWakeups?
    let owner: String
    let logger: Logger
    let metrics: JobMetrics
    let state = Mutex(WorkerState())

    struct WorkerState: ~Copyable {
        var running: [UUID: ClaimedJob] = [:]
        var startedAt: [UUID: ContinuousClock.Instant] = [:]
        var tasks: [UUID: Task<Void, Never>] = [:]
        var finished: [(job: ClaimedJob, result: Result<Void, any Error>, duration: Duration)] = []
        var wakeRequested = true
        /// Successes whose completion could not be written yet (a database error); retried with the next write.
        var unrecorded: [UUID] = []
    }

    /// - Parameters:
    ///   - handlers: one handler per job kind; the worker claims only these kinds.
    ///   - wakeups: NOTIFY-driven wake-ups shared by the process's workers; nil polls only.
    public init(queue: String, handlers: [String: Handler], jobs: JobQueue, wakeups: JobWakeups?, options: Options, logger: Logger) {
        precondition(!handlers.isEmpty, "a worker needs at least one handler")
        precondition(options.concurrency >= 1)
        self.queue = queue
        self.handlers = handlers
        self.jobs = jobs
        self.wakeups = wakeups
        self.options = options
        self.owner = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(queue):\(UUID().uuidString.prefix(8))"
        var logger = logger
        logger[metadataKey: "job.queue"] = "\(queue)"
        self.logger = logger
        self.metrics = JobMetrics(queue: queue)
    }

    private let signal = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    /// The least free capacity worth a claim statement: half a batch.
    private var claimThreshold: Int { max(1, min(options.batchSize, options.concurrency) / 2) }

    /// Asks the main loop to write finished outcomes and claim again.
    func wake() {
        state.withLock { $0.wakeRequested = true }
        signal.continuation.yield()
    }

    public func run() async throws {
        logger.info("job worker started", metadata: ["worker.owner": "\(owner)", "worker.concurrency": "\(options.concurrency)"])
        let background = Task { await runTimers() }
        let notified = Task { [queue] in
            guard let wakeups else { return }
            for await woken in wakeups.subscribe() where woken == nil || woken == queue {
                wake()
            }
        }
        defer {
            background.cancel()
            notified.cancel()
        }
        await withGracefulShutdownHandler {
            await mainLoop()
        } onGracefulShutdown: {
            self.signal.continuation.finish()
        }
        await drain()
        logger.info("job worker stopped")
    }

    private func mainLoop() async {
        wake()
        for await _ in signal.stream {
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let completed = await takeFinished()
            let (capacity, requested, idle) = state.withLock { state -> (Int, Bool, Bool) in
                let capacity = options.concurrency - state.running.count
                let requested = state.wakeRequested
                state.wakeRequested = false
                return (capacity, requested, state.running.isEmpty)
            }
            // Claim when asked to, and in useful amounts: half a batch's worth of room, or nothing running.
            guard requested, capacity > 0, capacity >= claimThreshold || idle else {
                if requested { state.withLock { $0.wakeRequested = true } }
                await complete(completed)
                continue
            }
            let limit = min(options.batchSize, capacity)
            // Completing the last batch and claiming the next touch disjoint rows: run them side by side on
            // two connections, so a busy worker waits for one round trip per batch instead of two.
            async let written: Void = complete(completed)
            do {
                let claimStart = ContinuousClock.now
                let claimed = try await jobs.claim(queue: queue, kinds: Array(handlers.keys), limit: limit, owner: owner, lease: options.lease)
                metrics.claimed(claimed, latency: ContinuousClock.now - claimStart)
                for job in claimed { start(job) }
                if claimed.count == limit { state.withLock { $0.wakeRequested = true } }
                if claimed.count == limit, capacity > limit { wake() }
            } catch {
                logger.warning("claiming jobs failed; will try again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
                wake()
            }
            await written
        }
    }

    private func start(_ job: ClaimedJob) {
        guard let handler = handlers[job.kind] else { return }
        state.withLock { state in
            state.running[job.leaseID] = job
            state.startedAt[job.leaseID] = .now
        }
        let task = Task {
            let started = ContinuousClock.now
            let result: Result<Void, any Error>
            do {
                try await handler(job)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            let duration = ContinuousClock.now - started
            // Wake the loop once there is room for a useful claim (or nothing is left running), so that
            // outcomes are written and jobs claimed in batches; the timer's periodic wake-up bounds how long
            // an outcome can wait behind long-running handlers (well within a lease).
            let wakeLoop = self.state.withLock { state -> Bool in
                state.tasks.removeValue(forKey: job.leaseID)
                state.startedAt.removeValue(forKey: job.leaseID)
                guard state.running.removeValue(forKey: job.leaseID) != nil else { return false }
                state.finished.append((job, result, duration))
                return self.options.concurrency - state.running.count >= self.claimThreshold || state.running.isEmpty
            }
            if wakeLoop { self.wake() }
        }
        state.withLock { state in
            if state.running[job.leaseID] != nil { state.tasks[job.leaseID] = task }
        }
    }

    /// Takes the outcomes of finished handlers: records failures (one statement each, they are rare) and
    /// returns the leases of successes, for the caller to complete in one statement.
    private func takeFinished() async -> [UUID] {
        let (finished, carried) = state.withLock { state in
            defer {
                state.finished.removeAll(keepingCapacity: true)
                state.unrecorded.removeAll()
            }
            return (state.finished, state.unrecorded)
        }
        var successes = carried
        for (job, result, duration) in finished {
            switch result {
            case .success:
                successes.append(job.leaseID)
                metrics.completed(job, duration: duration)
            case .failure(let error as JobFailure) where error.postponement != nil:
                let delay = error.postponement!
                logger.info("job postponed", metadata: [
                    "job.id": "\(job.id)", "job.kind": "\(job.kind)", "reason": "\(error)", "retry.in": "\(ConfigDuration.format(delay))",
                ])
                metrics.postponed(job)
                await record { try await self.jobs.postpone(job, reason: error.message, for: delay) }
            case .failure(let error):
                let failure = error as? JobFailure
                let permanent = failure?.permanent ?? false
                let delay = options.retry.delay(afterAttempt: job.attempt)
                let final = permanent || job.attempt >= job.maxAttempts
                logger.warning(final ? "job failed for good" : "job failed, will retry", metadata: [
                    "job.id": "\(job.id)", "job.kind": "\(job.kind)", "job.attempt": "\(job.attempt)",
                    "error": "\(error)", "retry.in": "\(final ? "never" : ConfigDuration.format(delay))",
                ])
                metrics.failed(job, final: final, duration: duration)
                await record { try await self.jobs.fail(job, error: "\(error)", retryAfter: delay, permanent: permanent) }
            }
        }
        return successes
    }

    /// After the loop ends: wait for running handlers within the grace period, write their results,
    /// and give back whatever is still running.
    private func drain() async {
        let deadline = ContinuousClock.now + options.shutdownGrace
        while ContinuousClock.now < deadline, !Task.isCancelled, !state.withLock({ $0.running.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let (leftover, tasks) = state.withLock { state in
            defer {
                state.running.removeAll()
                state.startedAt.removeAll()
                state.tasks.removeAll()
            }
            return (Array(state.running.keys), Array(state.tasks.values))
        }
        tasks.forEach { $0.cancel() }
        await complete(await takeFinished())
        if !leftover.isEmpty {
            logger.notice("releasing unfinished jobs for other workers", metadata: ["jobs.count": "\(leftover.count)"])
            await record { try await self.jobs.release(leases: leftover) }
        }
    }

    /// Completes finished jobs; on failure they are kept for the next write rather than dropped.
    private func complete(_ leases: [UUID]) async {
        guard !leases.isEmpty else { return }
        do {
            _ = try await jobs.complete(leases: leases)
        } catch {
            state.withLock { $0.unrecorded += leases }
            logger.warning("recording completed jobs failed; will try again", metadata: ["error": "\(error)", "jobs.count": "\(leases.count)"])
        }
    }

    /// Database writes of outcomes must not be lost to a blip: the pool already retries a restart within
    /// its reconnect window; past that we log, and the lease expiry hands the job to another worker.
    private func record(_ write: @Sendable () async throws -> some Sendable) async {
        do {
            _ = try await write()
        } catch {
            logger.error("recording job outcomes failed; their leases will expire and they will run again", metadata: ["error": "\(error)"])
        }
    }
}
