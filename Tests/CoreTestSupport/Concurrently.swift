import Synchronization

/// Runs `body` for each index in `0..<count`, `callers` at a time, each caller taking the next index
/// when it is done: how the benchmarks load many items through a library, as concurrent clients would.
public func forEachIndex(_ count: Int, callers: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
    let next = IndexCounter()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<callers {
            group.addTask {
                while true {
                    let index = next.take()
                    guard index < count else { return }
                    try await body(index)
                }
            }
        }
        try await group.waitForAll()
    }
}

/// The next index to hand out (an `Atomic` cannot be captured by the callers' closures itself).
private final class IndexCounter: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}
