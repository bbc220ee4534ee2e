import Foundation

/// Work to be queued: what to do (`kind` and its JSON `payload`), where (`queue`), and how it may be retried.
public struct NewJob: Sendable {
    public var kind: String
    /// A small JSON object (at most 64 KiB), e.g. `{"address":"alice@example.org"}`.
    public var payload: String
    public var queue: String
    /// Higher runs first among jobs that are due.
    public var priority: Int
    /// Not before this moment; nil means now.
    public var runAt: Date?
    public var maxAttempts: Int
    /// While a job with this key is ready or running, another with the same key is not queued.
    public var uniqueKey: String?

    public init(kind: String, payload: String = "{}", queue: String = "default", priority: Int = 0,
                runAt: Date? = nil, maxAttempts: Int = 20, uniqueKey: String? = nil) {
        self.kind = kind
        self.payload = payload
        self.queue = queue
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.uniqueKey = uniqueKey
    }

    /// A job whose payload is `value` encoded as JSON.
    public init(kind: String, payload value: some Encodable, queue: String = "default", priority: Int = 0,
                runAt: Date? = nil, maxAttempts: Int = 20, uniqueKey: String? = nil) throws {
        self.init(kind: kind, payload: try PostgresJSON(value).text, queue: queue, priority: priority,
                  runAt: runAt, maxAttempts: maxAttempts, uniqueKey: uniqueKey)
    }
}

/// What `enqueue` did.
public enum EnqueueResult: Sendable, Equatable {
    case enqueued(id: Int64)
    /// An active job already holds the unique key; nothing was added.
    case duplicate
}

/// A job a worker holds a lease on, as its handler sees it.
public struct ClaimedJob: Sendable, Identifiable {
    public let id: Int64
    public let queue: String
    public let kind: String
    public let payload: String
    public let priority: Int
    /// This attempt's number, starting at 1.
    public let attempt: Int
    public let maxAttempts: Int
    public let runAt: Date
    public let createdAt: Date
    /// Identifies this claim: completing or failing the job checks it, so a worker whose lease was taken
    /// over cannot overwrite the new owner's work.
    public let leaseID: UUID

    /// The payload decoded as `T`.
    public func decodePayload<T: Decodable>(as type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(payload.utf8))
    }

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        queue = try row.decode("queue")
        kind = try row.decode("kind")
        payload = try row.decode("payload")
        priority = try row.decode("priority")
        attempt = try row.decode("attempts")
        maxAttempts = try row.decode("max_attempts")
        runAt = try row.decode("run_at")
        createdAt = try row.decode("created_at")
        leaseID = try row.decode("lease_id")
    }
}

/// A job as operators see it, active or finished.
public struct JobRecord: Sendable, Codable, Equatable {
    public let id: Int64
    public let queue: String
    public let kind: String
    public let state: String
    public let payload: String
    public let priority: Int
    public let attempts: Int
    public let maxAttempts: Int
    public let uniqueKey: String?
    public let lastError: String?
    public let leaseOwner: String?
    public let runAt: Date?
    public let createdAt: Date
    public let finishedAt: Date?

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        queue = try row.decode("queue")
        kind = try row.decode("kind")
        state = try row.decode("state")
        payload = try row.decode("payload")
        priority = try row.decode("priority")
        attempts = try row.decode("attempts")
        maxAttempts = try row.decode("max_attempts")
        uniqueKey = try row.decodeIfPresent("unique_key")
        lastError = try row.decodeIfPresent("last_error")
        leaseOwner = try row.decodeIfPresent("lease_owner")
        runAt = try row.decodeIfPresent("run_at")
        createdAt = try row.decode("created_at")
        finishedAt = try row.decodeIfPresent("finished_at")
    }
}

/// Per-queue counts for `platformctl jobs stats` and the depth metrics.
public struct QueueStatistics: Sendable, Codable, Equatable {
    public let queue: String
    public let ready: Int
    public let scheduled: Int
    public let running: Int
    public let failed: Int
    public let completedLastHour: Int
    /// Seconds the oldest due job has waited, 0 when none is due.
    public let oldestReadyAgeSeconds: Double
}
