import ArgumentParser
import Foundation
import Core

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and manage the job table.",
        subcommands: [List.self, Show.self, Retry.self, Cancel.self, Stats.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List active jobs first, then the newest finished ones.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this queue.") var queue: String?
        @Option(help: "Only this state: ready, running, completed, failed, cancelled.") var state: String?
        @Option(help: "At most this many rows.") var limit = 50

        func validate() throws {
            if let state, !["ready", "running", "completed", "failed", "cancelled"].contains(state) {
                throw ValidationError("unknown state \(state): use ready, running, completed, failed or cancelled")
            }
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
        }

        func run() async throws {
            try await CommandContext.run(global) { context in
                let jobs = try await JobQueue(pool: context.pool).list(queue: queue, state: state, limit: limit)
                if global.json { return try Output.json(jobs) }
                Output.table(["ID", "QUEUE", "KIND", "STATE", "ATTEMPTS", "RUN AT / FINISHED", "LAST ERROR"], jobs.map {
                    [String($0.id), $0.queue, $0.kind, $0.state, "\($0.attempts)/\($0.maxAttempts)",
                     Output.date($0.finishedAt ?? $0.runAt), String(($0.lastError ?? "").prefix(60))]
                })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job with its payload and last error.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's ID.") var id: Int64

        func run() async throws {
            try await CommandContext.run(global) { context in
                guard let job = try await JobQueue(pool: context.pool).show(id: id) else { throw Failure.refused("job \(id) does not exist") }
                if global.json { return try Output.json(job) }
                let fields: [(String, String)] = [
                    ("id", String(job.id)), ("queue", job.queue), ("kind", job.kind), ("state", job.state),
                    ("attempts", "\(job.attempts) of \(job.maxAttempts)"), ("priority", String(job.priority)),
                    ("unique key", job.uniqueKey ?? "-"), ("lease owner", job.leaseOwner ?? "-"),
                    ("created", Output.date(job.createdAt)), ("run at", Output.date(job.runAt)), ("finished", Output.date(job.finishedAt)),
                    ("payload", job.payload), ("last error", job.lastError ?? "-"),
                ]
                for (name, value) in fields { print("\(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(value)") }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a failed or cancelled job again with fresh attempts.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's ID.") var id: Int64

        func run() async throws {
            try await CommandContext.run(global) { context in
                try await operatorAction(global, done: ("retried", "job \(id) queued again")) { try await JobQueue(pool: context.pool).retry(id: id) }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel an active job; a running handler is stopped at its next lease renewal.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's ID.") var id: Int64

        func run() async throws {
            try await CommandContext.run(global) { context in
                try await operatorAction(global, done: ("cancelled", "job \(id) cancelled")) { try await JobQueue(pool: context.pool).cancel(id: id) }
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per-queue counts and the age of the oldest due job.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await CommandContext.run(global) { context in
                let stats = try await JobQueue(pool: context.pool).statistics()
                if global.json { return try Output.json(stats) }
                Output.table(["QUEUE", "READY", "SCHEDULED", "RUNNING", "FAILED", "DONE/1H", "OLDEST READY"], stats.map {
                    [$0.queue, String($0.ready), String($0.scheduled), String($0.running), String($0.failed),
                     String($0.completedLastHour), String(format: "%.1fs", $0.oldestReadyAgeSeconds)]
                })
            }
        }
    }
}

/// Runs an operator's verb on one job: a refusal becomes exit code 5, success is reported as text or JSON.
private func operatorAction(_ global: GlobalOptions, done: (key: String, message: String), _ action: () async throws -> Void) async throws {
    do {
        try await action()
    } catch let refusal as JobQueue.OperatorRefusal {
        throw Failure.refused(refusal.description)
    }
    if global.json { try Output.json([done.key: true]) } else { print(done.message) }
}
