import Core
import Synchronization
import Testing

/// One piece of work per key in a process, however many askers wait for it.
@Suite("Single flight")
struct SingleFlightTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    struct Failure: Error {}

    @Test("Fifty askers of one key share one piece of work; another key gets its own; a failure reaches the asker")
    func oneWorkPerKey() async throws {
        let flights = SingleFlight<Int>()
        let runs = Counter()
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let body: @Sendable () async -> Int = {
            runs.value.add(1, ordering: .relaxed)
            for await _ in gate { break }
            return 42
        }
        let results = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<50 { group.addTask { await flights.join("example.com", body) } }
            // Every asker is waiting (the first inside the work) before the work may finish.
            while flights.waiting("example.com") < 50 { await Task.yield() }
            open.yield()
            open.finish()
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: 42, count: 50))
        #expect(runs.value.load(ordering: .relaxed) == 1)
        #expect(flights.waiting("example.com") == 0, "the flight is gone once its askers are")
        let other = await flights.join("example.org") { () async -> Int in
            runs.value.add(1, ordering: .relaxed)
            return 7
        }
        #expect(other == 7)
        #expect(runs.value.load(ordering: .relaxed) == 2)
        await #expect(throws: Failure.self) {
            try await flights.join("broken.example") { () async throws -> Int in throw Failure() }
        }
    }
}
