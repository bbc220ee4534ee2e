// Alias creations per second through AliasDirectory (the code the service and platformctl run), with
// several concurrent callers. Benchmarks/run-aliases.sh prepares the database and runs it.
//
//   AliasBenchmark URL ACCOUNTS CREATIONS CONCURRENCY[,CONCURRENCY…]
import Aliases
import Core
import Foundation
import Logging
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count == 5, let accounts = Int(arguments[2]), let creations = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: AliasBenchmark URL ACCOUNTS CREATIONS CONCURRENCY[,…]\n".utf8))
    exit(64)
}
let concurrencies = arguments[4].split(separator: ",").compactMap { Int($0) }
LogFormatting.bootstrap(format: .text, level: .warning)
let logger = Logger(label: "palisade.bench")
let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: arguments[1], applicationName: "alias-bench", maxConnections: concurrencies.max() ?? 1), logger: logger)
let directory = AliasDirectory(pool: pool, rules: AddressRules(maxAliasesPerAccount: 100_000), logger: logger)
/// Hands out creation numbers to the concurrent callers.
final class Tickets: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Creates `creations` aliases with `concurrency` callers; returns the seconds it took.
func measure(_ directory: AliasDirectory, accounts: Int, creations: Int, concurrency: Int) async throws -> Double {
    let tickets = Tickets()
    let actor = AliasDirectory.Actor(name: "bench")
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                while true {
                    let index = tickets.take()
                    guard index < creations else { return }
                    _ = try await directory.createAlias("lib\(concurrency)-\(index)@mail.example", for: Int64(index % accounts + 1), by: actor)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

for concurrency in concurrencies {
    let seconds = try await measure(directory, accounts: accounts, creations: creations, concurrency: concurrency)
    print("aliases library concurrency=\(concurrency) creations=\(creations) creations_per_sec=\(Int((Double(creations) / seconds).rounded()))")
}
pool.close()
