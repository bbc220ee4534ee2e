import Synchronization

/// Work under way in one process, by key, so that many askers of one thing cause one piece of work (a key
/// look-up of an address, a transport check of a domain). The work runs in a task of its own: an asker
/// that gives up (a client gone) does not cancel it for the others, and what it found is still kept.
public final class SingleFlight<Value: Sendable>: Sendable {
    private struct Flight {
        let task: Task<Value, any Error>
        var waiting: Int
    }

    private let flights = Mutex<[String: Flight]>([:])

    public init() {}

    /// `body`'s value, from the task already running for `key` or from a new one.
    public func join(_ key: String, _ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = flights.withLock { flights in
            if var flight = flights[key] {
                flight.waiting += 1
                flights[key] = flight
                return flight.task
            }
            let task = Task { try await body() }
            flights[key] = Flight(task: task, waiting: 1)
            return task
        }
        defer {
            flights.withLock { flights in
                guard var flight = flights[key], flight.task == task else { return }
                flight.waiting -= 1
                flights[key] = flight.waiting == 0 ? nil : flight
            }
        }
        return try await task.value
    }

    /// As `join`, for work that cannot fail.
    public func join(_ key: String, _ body: @escaping @Sendable () async -> Value) async -> Value {
        do {
            return try await join(key) { () async throws -> Value in await body() }
        } catch {
            // The task runs `body` only, which cannot throw, and it is never cancelled.
            preconditionFailure("work that cannot fail failed: \(error)")
        }
    }

    /// How many askers wait for `key` now.
    public func waiting(_ key: String) -> Int {
        flights.withLock { $0[key]?.waiting ?? 0 }
    }
}
