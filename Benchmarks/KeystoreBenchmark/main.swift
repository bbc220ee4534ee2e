// Certificate imports per second through AccountKeystore (the code behind the keystore's API and
// platformctl keys): every certificate of a keyring uploaded on its own, as clients send them, by several
// concurrent callers, into the keystores of ACCOUNTS accounts. Benchmarks/run-keystore.sh prepares the
// databases and runs it.
//
//   KeystoreBenchmark URL KEYRING ACCOUNTS CONCURRENCY
import Core
import Foundation
import Keystore
import Logging
import OpenPGP
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count == 5, let accounts = Int(arguments[3]), let concurrency = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: KeystoreBenchmark URL KEYRING ACCOUNTS CONCURRENCY\n".utf8))
    exit(64)
}
LogFormatting.bootstrap(format: .text, level: .warning)
let logger = Logger(label: "palisade.bench")
let keyring = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[2])))
// Each certificate as a client would upload it: its own packets, binary.
let uploads: [[UInt8]] = try Certificate.parse(keyring, limits: OpenPGPLimits(maximumInputSize: 1 << 30, maximumPackets: 10_000_000)).map {
    $0.validated(at: UInt32(Date().timeIntervalSince1970)).serialized
}
let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: arguments[1], applicationName: "keystore-bench", maxConnections: concurrency), logger: logger)
let keystore = AccountKeystore(pool: pool, logger: logger)

/// Hands out certificate numbers to the concurrent callers.
final class Tickets: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Uploads every certificate once; returns the seconds it took and the outcomes counted.
func run(_ keystore: AccountKeystore, _ uploads: [[UInt8]], accounts: Int, concurrency: Int) async throws -> (Double, [String: Int]) {
    let tickets = Tickets()
    let start = ContinuousClock.now
    let outcomes = try await withThrowingTaskGroup(of: [String: Int].self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var counted: [String: Int] = [:]
                while true {
                    let index = tickets.take()
                    guard index < uploads.count else { return counted }
                    for result in try await keystore.importCertificates(uploads[index], for: Int64(index % accounts + 1), by: "bench") {
                        counted[result.outcome.rawValue, default: 0] += 1
                    }
                }
            }
        }
        return try await group.reduce(into: [:]) { total, part in total.merge(part) { $0 + $1 } }
    }
    let elapsed = ContinuousClock.now - start
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, outcomes)
}

for pass in ["first", "again"] {
    let (seconds, outcomes) = try await run(keystore, uploads, accounts: accounts, concurrency: concurrency)
    let summary = outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    print(String(format: "keystore import pass=%@ concurrency=%d certificates=%d seconds=%.2f imports_per_sec=%.0f %@",
                 pass, concurrency, uploads.count, seconds, Double(uploads.count) / seconds, summary))
}
pool.close()
