import CoreTestSupport
import Foundation
import Testing

/// The units in `Deploy/systemd` as systemd judges them (Debian 12's systemd 252): `systemd-analyze verify`
/// finds nothing wrong (with each `ExecStart` pointed at the built executable, which the installed path is not
/// here), and `systemd-analyze security` rates each unit's exposure 2.0 or lower ("OK" or better). The scores
/// are printed for the record.
@Suite("The systemd units")
struct SystemdUnitTests {
    static let units = ["palisade-aliases", "palisade-keystore", "palisade-wkd", "palisade-vks-sync", "palisade-transport"]
    static let analyze = "/usr/bin/systemd-analyze"

    static func unitFile(_ name: String) -> URL {
        TestDatabase.repositoryRoot.appendingPathComponent("Deploy/systemd/\(name).service")
    }

    @Test("Every service has a unit: notify with a watchdog, restarted on failure, its own user, /etc/palisade, sandboxed", arguments: units)
    func settings(unit: String) throws {
        let text = try String(contentsOf: Self.unitFile(unit), encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        for required in ["Type=notify", "Restart=on-failure", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                         "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "Group=palisade",
                         "ExecStart=/usr/bin/\(unit) --config /etc/palisade/palisade.yaml"] {
            #expect(lines.contains(required), "\(unit): \(required)")
        }
        #expect(lines.contains { $0.hasPrefix("WatchdogSec=") }, "\(unit): WatchdogSec")
        #expect(lines.contains { $0.hasPrefix("RestrictAddressFamilies=") }, "\(unit): RestrictAddressFamilies")
        let user = try #require(lines.first { $0.hasPrefix("User=") }.map { String($0.dropFirst(5)) })
        // The user is one of those systemd-sysusers creates.
        let sysusers = try String(contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("Deploy/systemd/palisade.sysusers.conf"), encoding: .utf8)
        #expect(sysusers.split(separator: "\n").contains { $0.hasPrefix("u \(user) ") }, "\(unit): User=\(user) is in palisade.sysusers.conf")
    }

    @Test("systemd-analyze verify finds nothing wrong, and security rates the exposure 2.0 or lower", arguments: units)
    func analyzed(unit: String) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.analyze) else {
            throw TestSetupError("\(Self.analyze) is missing (apt-get install systemd)")
        }
        let built = TestDatabase.repositoryRoot.appendingPathComponent(".build/debug/\(unit)").path
        #expect(FileManager.default.isExecutableFile(atPath: built), "\(built) is built")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-units-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("\(unit).service")
        let text = try String(contentsOf: Self.unitFile(unit), encoding: .utf8)
        try text.replacingOccurrences(of: "ExecStart=/usr/bin/\(unit) ", with: "ExecStart=\(built) ").write(to: copy, atomically: true, encoding: .utf8)
        let verified = try await ChildProcess.runReportingStatus(Self.analyze, ["verify", copy.path], includingStandardError: true)
        #expect(verified.status == 0 && verified.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(unit): \(verified.output)")

        let security = try await ChildProcess.runReportingStatus(Self.analyze, ["security", "--offline=yes", "--no-pager", Self.unitFile(unit).path],
                                                                 includingStandardError: true)
        let line = try #require(security.output.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(security.output)")
        let score = try #require(line.firstMatch(of: /: ([0-9]+\.[0-9]+) ([A-Z]+)/), "\(line)")
        let exposure = try #require(Double(score.output.1))
        print("systemd-analyze security \(unit): exposure \(score.output.1) \(score.output.2)")
        #expect(exposure <= 2.0, "\(unit): \(line)")
    }
}
