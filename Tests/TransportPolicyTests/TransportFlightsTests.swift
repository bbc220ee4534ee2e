import Foundation
import MailPolicy
import Synchronization
import Testing
@testable import TransportPolicy

/// One check per domain in a process, however many look-ups wait for it.
@Suite("Transport flights")
struct TransportFlightsTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    @Test("Fifty look-ups of one new domain share one check; another domain gets its own")
    func oneCheckPerDomain() async throws {
        let flights = TransportFlights()
        let checks = Counter()
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let now = Date()
        let entry = TransportPolicyEntry(domain: "example.com", sts: MTASTSState(lastCheck: .none, checkedAt: now, nextCheckAt: now),
                                         dane: DANEState(result: .failed("x"), checkedAt: now, validUntil: now, nextCheckAt: now))
        let body: @Sendable () async -> TransportPolicyEntry = {
            checks.value.add(1, ordering: .relaxed)
            for await _ in gate { break }
            return entry
        }
        let results = await withTaskGroup(of: TransportPolicyEntry.self) { group in
            for _ in 0..<50 { group.addTask { await flights.join("example.com", body) } }
            // Every asker is waiting (the first is inside the check) before the check may finish.
            while flights.waiting("example.com") < 50 { await Task.yield() }
            open.yield()
            open.finish()
            return await group.reduce(into: [TransportPolicyEntry]()) { $0.append($1) }
        }
        #expect(results.count == 50)
        #expect(checks.value.load(ordering: .relaxed) == 1)
        _ = await flights.join("example.org") {
            checks.value.add(1, ordering: .relaxed)
            return entry
        }
        #expect(checks.value.load(ordering: .relaxed) == 2)
    }
}
