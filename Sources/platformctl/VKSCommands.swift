import ArgumentParser
import Core
import Foundation
import VKSSync

/// `platformctl vks …`: refreshes from the validating key server, and what it last said of each key.
struct VKSCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vks",
        abstract: "The VKS sync worker: refresh keys from the validating key server, and their status.",
        subcommands: [Refresh.self, Status.self]
    )

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue refreshes for palisade-vks-sync (within its rate limit) and follow them to the end.",
            discussion: """
                Each refresh is a vks.refresh job that palisade-vks-sync runs at its configured rate, so this waits for the \
                service; --no-wait only queues. The summary counts the keys by what the VKS answered.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Fingerprints (40 or 64 hexadecimal digits).") var fingerprints: [String] = []
        @Flag(help: "Every stored key.") var all = false
        @Flag(help: "Queue and return at once.") var noWait = false

        func validate() throws {
            guard all != !fingerprints.isEmpty else { throw ValidationError("name fingerprints, or --all") }
        }

        func run() async throws {
            let wanted: [Fingerprint]
            do { wanted = try fingerprints.map { try Fingerprint($0) } } catch { throw Failure.refused("\(error)") }
            try await CommandContext.run(global) { context in
                let pool = context.pool
                let keys: [String] = all
                    ? try await pool.query("SELECT fingerprint FROM keys ORDER BY fingerprint").map { try $0.decode("fingerprint") }
                    : try await pool.query("SELECT fingerprint FROM keys WHERE fingerprint = ANY(\(PostgresArray(wanted.map(\.hex)))::text[])")
                        .map { try $0.decode("fingerprint") }
                let missing = Set(wanted.map(\.hex)).subtracting(keys)
                guard missing.isEmpty else { throw Failure.refused("not stored: \(missing.sorted().joined(separator: ", "))") }
                // The database's clock, which writes checked_at.
                let started: Date = try await pool.query("SELECT now() AS at").first!.decode("at")
                var batch = keys[...]
                while !batch.isEmpty {
                    let chunk = batch.prefix(1_000)
                    try await pool.transaction { connection in
                        try await JobQueue.enqueue(batch: try chunk.map { try VKSRefreshJob.make(fingerprint: try Fingerprint($0)) }, on: connection)
                    }
                    batch = batch.dropFirst(chunk.count)
                }
                // A refresh already waiting for later (the schedule's spread, a retry's back-off) is asked for
                // now; one the VKS told to wait is held back again by the service, which remembers until when.
                try await pool.query("""
                    UPDATE jobs SET run_at = now() WHERE kind = \(VKSRefreshJob.kind) AND state = 'ready' AND run_at > now()
                    AND payload->>'fingerprint' = ANY(\(PostgresArray(keys))::text[])
                    """)
                if noWait {
                    if global.json { return try Output.json(["queued": keys.count]) }
                    return print("queued \(keys.count) refreshes (keys already waiting keep their place)")
                }
                let progress = Progress(total: keys.count)
                var last = (done: -1, at: Date())
                while true {
                    let waiting = try await pool.query("""
                        SELECT count(*)::bigint AS n FROM jobs WHERE kind = \(VKSRefreshJob.kind)
                        AND payload->>'fingerprint' = ANY(\(PostgresArray(keys))::text[])
                        """).first!.decode("n", as: Int64.self)
                    let done = keys.count - Int(waiting)
                    progress.show(done)
                    if done == keys.count { break }
                    if done != last.done { last = (done, Date()) }
                    if Date().timeIntervalSince(last.at) > 60 {
                        progress.finish()
                        let row = try await pool.query("""
                            SELECT min(run_at) AS next, max(last_error) AS error FROM jobs WHERE kind = \(VKSRefreshJob.kind)
                            AND payload->>'fingerprint' = ANY(\(PostgresArray(keys))::text[])
                            """).first
                        let next: Date? = try row?.decodeIfPresent("next")
                        let error: String? = try row?.decodeIfPresent("error")
                        var message = "no refresh finished for a minute; \(keys.count - done) still queued"
                        if let next, next > Date() { message += ", the next not before \(Output.date(next))" }
                        if let error { message += " (last error: \(error))" }
                        throw Failure.refused(message + ". Is palisade-vks-sync running? `platformctl jobs list --queue vks` shows them.")
                    }
                    try await Task.sleep(for: .milliseconds(500))
                }
                progress.finish()
                let rows = try await pool.query("""
                    SELECT CASE WHEN c.checked_at >= \(started) AND c.found THEN 'found' WHEN c.checked_at >= \(started) THEN 'unknown to the VKS'
                                ELSE 'failed' END AS outcome, k.status, count(*)::bigint AS keys
                    FROM keys k LEFT JOIN key_vks_checks c USING (fingerprint)
                    WHERE k.fingerprint = ANY(\(PostgresArray(keys))::text[])
                    GROUP BY 1, 2 ORDER BY 1, 2
                    """).map { (try $0.decode("outcome", as: String.self), try $0.decode("status", as: String.self), try $0.decode("keys", as: Int64.self)) }
                if global.json {
                    return try Output.json(rows.map { ["outcome": $0.0, "status": $0.1, "keys": "\($0.2)"] })
                }
                Output.table(["VKS ANSWER", "KEY STATUS", "KEYS"], rows.map { [$0.0, $0.1, "\($0.2)"] })
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What the VKS last said: a summary of every key, or one key's record.",
            discussion: "A key is stale when its last answer is older than vks.staleAfter; its status stays as it was.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A fingerprint, for that key's record.") var fingerprint: String?

        func run() async throws {
            try await CommandContext.run(global) { context in
                let staleAfter = VKSSyncSettings.staleAfter.read(context.configuration).inSeconds
                if let fingerprint {
                    let hex: String
                    do { hex = try Fingerprint(fingerprint).hex } catch { throw Failure.refused("\(error)") }
                    guard let row = try await context.pool.query("""
                        SELECT k.status, c.found, c.checked_at, c.attempted_at, c.last_error, c.next_check_at,
                               c.checked_at IS NULL OR c.checked_at < now() - \(staleAfter) * interval '1 second' AS stale
                        FROM keys k LEFT JOIN key_vks_checks c USING (fingerprint) WHERE k.fingerprint = \(hex)
                        """).first else { throw Failure.refused("not stored: \(hex)") }
                    let found: Bool? = try row.decodeIfPresent("found")
                    let record: [String: String] = [
                        "fingerprint": hex, "status": try row.decode("status"),
                        "vks": found.map { $0 ? "found" : "unknown to the VKS" } ?? "never answered",
                        "checked_at": Output.date(try row.decodeIfPresent("checked_at")), "attempted_at": Output.date(try row.decodeIfPresent("attempted_at")),
                        "next_check_at": Output.date(try row.decodeIfPresent("next_check_at")), "last_error": try row.decodeIfPresent("last_error") ?? "-",
                        "stale": try row.decode("stale", as: Bool.self) ? "yes" : "no",
                    ]
                    if global.json { return try Output.json(record) }
                    for key in ["fingerprint", "status", "vks", "checked_at", "stale", "attempted_at", "last_error", "next_check_at"] {
                        print("\(key.padding(toLength: 14, withPad: " ", startingAt: 0)) \(record[key]!)")
                    }
                    return
                }
                let rows = try await context.pool.query("""
                    SELECT k.status,
                           CASE WHEN c.checked_at IS NULL THEN 'never answered' WHEN c.found THEN 'found' ELSE 'unknown to the VKS' END AS vks,
                           count(*)::bigint AS keys,
                           count(*) FILTER (WHERE c.checked_at IS NULL OR c.checked_at < now() - \(staleAfter) * interval '1 second')::bigint AS stale,
                           count(*) FILTER (WHERE c.last_error IS NOT NULL)::bigint AS failing
                    FROM keys k LEFT JOIN key_vks_checks c USING (fingerprint) GROUP BY 1, 2 ORDER BY 1, 2
                    """).map { row in
                        [try row.decode("status", as: String.self), try row.decode("vks", as: String.self), "\(try row.decode("keys", as: Int64.self))",
                         "\(try row.decode("stale", as: Int64.self))", "\(try row.decode("failing", as: Int64.self))"]
                    }
                if global.json {
                    return try Output.json(rows.map { ["status": $0[0], "vks": $0[1], "keys": $0[2], "stale": $0[3], "failing": $0[4]] })
                }
                Output.table(["KEY STATUS", "VKS", "KEYS", "STALE", "LAST ATTEMPT FAILED"], rows)
            }
        }
    }
}

/// A progress bar on standard error when it is a terminal; a line every tenth otherwise.
final class Progress {
    let total: Int
    let terminal = isatty(STDERR_FILENO) == 1
    private var shownTenth = -1

    init(total: Int) { self.total = total }

    func show(_ done: Int) {
        if terminal {
            let width = 40
            let filled = total == 0 ? width : width * done / total
            FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(done)/\(total)".utf8))
        } else {
            let tenth = total == 0 ? 10 : 10 * done / total
            if tenth != shownTenth {
                shownTenth = tenth
                FileHandle.standardError.write(Data("\(done)/\(total) done\n".utf8))
            }
        }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
