// Prepares the WKD benchmark's database: ADDRESSES accounts on the platform domain bench.example, each
// with its own key (KEYS_DIR/benchI.pgp, one User ID benchI@bench.example) imported through
// AccountKeystore and bound to its address, then every entry computed by WKDPublication (timed), and the
// static export written to EXPORT_DIR. Prints the hashes of the entries to HASHES (one per line) for wrk.
// Benchmarks/run-wkd.sh runs it.
//
//   WKDBenchmark ADMIN_URL KEYSTORE_URL WKD_URL KEYS_DIR ADDRESSES EXPORT_DIR HASHES
import Core
import CoreTestSupport
import Foundation
import Keystore
import Logging
import OpenPGP
import Synchronization
import WKDPublishing

let arguments = CommandLine.arguments
guard arguments.count == 8, let count = Int(arguments[5]) else {
    FileHandle.standardError.write(Data("usage: WKDBenchmark ADMIN_URL KEYSTORE_URL WKD_URL KEYS_DIR ADDRESSES EXPORT_DIR HASHES\n".utf8))
    exit(64)
}
LogFormatting.bootstrap(format: .text, level: .warning)
let logger = Logger(label: "palisade.bench")
func pool(_ url: String, _ connections: Int) -> PostgresPool {
    PostgresPool(configuration: PostgresConfiguration(conninfo: url, applicationName: "wkd-bench", maxConnections: connections), logger: logger)
}
let admin = pool(arguments[1], 2)
let keystorePool = pool(arguments[2], 4)
let wkdPool = pool(arguments[3], 4)

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

// Accounts and addresses in bulk (the alias rules are not what is measured here).
try await admin.query("INSERT INTO domains (name, kind) VALUES ('bench.example', 'platform')")
try await admin.query("""
    WITH made AS (INSERT INTO accounts SELECT FROM generate_series(1, \(count)) RETURNING id)
    INSERT INTO addresses (address, local_part, domain_id, account_id, kind)
    SELECT 'bench' || (row_number() OVER (ORDER BY id) - 1) || '@bench.example', 'bench' || (row_number() OVER (ORDER BY id) - 1),
           (SELECT id FROM domains WHERE name = 'bench.example'), id, 'primary'
    FROM made
    """)
let accounts: [String: Int64] = Dictionary(uniqueKeysWithValues: try await admin.query("SELECT address, account_id FROM addresses").map {
    (try $0.decode("address", as: String.self), try $0.decode("account_id", as: Int64.self))
})

// Each key imported and bound by its account, four callers at a time.
let keystore = AccountKeystore(pool: keystorePool, logger: logger)
var start = ContinuousClock.now
try await forEachIndex(count, callers: 4) { index in
    let address = "bench\(index)@bench.example"
    let key = Array(try Data(contentsOf: URL(fileURLWithPath: "\(arguments[4])/bench\(index).pgp")))
    let account = accounts[address]!
    let fingerprint = try await keystore.importCertificates(key, for: account, by: "bench")[0].fingerprint
    try await keystore.bind(address, to: fingerprint, of: account, by: "bench")
}
print(String(format: "wkd setup keys_imported_and_bound=%d seconds=%.1f", count, seconds(since: start)))

// Every entry computed, as the reconciliation does it.
start = ContinuousClock.now
let changed = try await WKDPublication(pool: wkdPool, logger: logger).reconcile()
let took = seconds(since: start)
print(String(format: "wkd reconcile entries=%d seconds=%.1f entries_per_sec=%.0f", changed, took, Double(changed) / took))

let content = WKDContent()
try await content.reloadAll(from: wkdPool)
let summary = try WKDExport.write(domains: content.all.domains, entries: content.all.entries, to: arguments[6])
print("wkd export entries=\(summary.entries) files=\(summary.files)")
try content.all.entries.map(\.hash).sorted().joined(separator: "\n").appending("\n").write(toFile: arguments[7], atomically: true, encoding: .utf8)
for pool in [admin, keystorePool, wkdPool] { pool.close() }
