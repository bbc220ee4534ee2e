import Aliases
import Core
import CoreTestSupport
import Foundation
import Keystore
import Logging
import ServiceLifecycle
import Testing
import WKDPublishing

/// The publisher's jobs as the service runs them, the static export, and platformctl wkd.
@Suite("WKD publisher: jobs, export, platformctl")
struct WKDOperationsTests {
    @Test("The keystore's binds enqueue wkd.refresh; the publisher's worker turns them into entries")
    func jobsBecomeEntries() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        #expect(try await world.db.count("SELECT count(*) FROM wkd_entries") == 0)
        func worker() -> JobWorker {
            JobWorker(queue: WKDRefreshJob.queue, handlers: WKDApplication.handlers(world.publication), jobs: JobQueue(pool: world.wkdPool),
                      wakeups: nil, options: .init(concurrency: 2, batchSize: 10, pollInterval: .milliseconds(50)), logger: world.db.logger)
        }
        try await world.db.run([worker()], until: "the binds' jobs are done") {
            try await world.db.count("SELECT count(*) FROM wkd_entries") == 3
        }
        try await world.keystore.unbind("analyst@example.org", of: world.account, by: "test")
        try await world.db.run([worker()], until: "the unbind's job is done") {
            try await world.db.count("SELECT count(*) FROM wkd_entries") == 2
        }
    }

    @Test("The export writes both methods and the policy files, and replaces the tree atomically without stale files")
    func export() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await world.refreshAll()
        let content = WKDContent()
        try await content.reloadAll(from: world.wkdPool)
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("wkd-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: parent) }
        let directory = parent.appendingPathComponent("wkd").path
        let summary = try WKDExport.write(domains: content.all.domains, entries: content.all.entries, to: directory)
        #expect(summary.entries == 3 && summary.domains == 1 && summary.files == 2 + 3 * 2)
        let hash = try WKDWorld.hash("Ada.Lovelace@example.org")
        let advanced = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/\(hash)"))
        let direct = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/example.org/.well-known/openpgpkey/hu/\(hash)"))
        #expect(advanced == direct)
        #expect(try WKDWorld.userIDs(Array(advanced)) == ["Other <Ada.Lovelace@example.org>"])
        #expect(FileManager.default.fileExists(atPath: "\(directory)/example.org/.well-known/openpgpkey/policy"))
        #expect(FileManager.default.fileExists(atPath: "\(directory)/openpgpkey.example.org/.well-known/openpgpkey/example.org/policy"))
        let first = try FileManager.default.destinationOfSymbolicLink(atPath: directory)

        // Unbound: gone from the next export, and the old tree is removed.
        try await world.keystore.unbind("Ada.Lovelace@example.org", of: world.account, by: "test")
        try await world.refreshAll()
        try await content.reloadAll(from: world.wkdPool)
        _ = try WKDExport.write(domains: content.all.domains, entries: content.all.entries, to: directory)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/example.org/.well-known/openpgpkey/hu/\(hash)"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory) != first)
        #expect(!FileManager.default.fileExists(atPath: parent.appendingPathComponent(first).path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).count == 2)

        // A real directory in the way is not replaced.
        let other = parent.appendingPathComponent("plain").path
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        #expect(throws: WKDExport.Failure.self) { try WKDExport.write(domains: [], entries: [], to: other) }
        // Nor a link to somewhere else, whose target must never be removed.
        let foreign = parent.appendingPathComponent("site").path
        try FileManager.default.createSymbolicLink(atPath: foreign, withDestinationPath: other)
        #expect(throws: WKDExport.Failure.self) { try WKDExport.write(domains: [], entries: [], to: foreign) }
        #expect(FileManager.default.fileExists(atPath: other))
    }

    func platformctl(_ arguments: [String], _ world: WKDWorld) async throws -> (status: Int32, output: String) {
        try await world.db.platformctl(arguments)
    }

    @Test("platformctl wkd enable, disable, export and reconcile")
    func commands() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let enabled = try await platformctl(["wkd", "enable", "ada.example"], world)
        #expect(enabled.status == 0 && enabled.output.contains("now served"))
        #expect(try await platformctl(["wkd", "enable", "ada.example"], world).output.contains("already"))
        let refused = try await platformctl(["wkd", "enable", "example.org"], world)
        #expect(refused.status == 5 && refused.output.contains("platform_domain"))
        try await world.refreshAll()
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("wkd-ctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: parent) }
        let exported = try await platformctl(["wkd", "export", parent.appendingPathComponent("wkd").path], world)
        #expect(exported.status == 0 && exported.output.contains("exported 4 entries of 2 domains"))
        #expect(try await platformctl(["wkd", "disable", "ada.example"], world).status == 0)
        #expect(try await platformctl(["wkd", "reconcile"], world).output.contains("reconciliation enqueued"))
        #expect(try await world.db.count("SELECT count(*) FROM jobs WHERE kind = 'wkd.reconcile'") == 1)
        #expect(try await world.db.count("SELECT count(*) FROM audit_log WHERE actor = 'platformctl:operator-test' AND action LIKE 'wkd.service.%'") == 4)
    }
}
