import CoreTestSupport
import Foundation
import Testing

/// The configuration reference cannot drift from the code: it is generated from the settings the code reads,
/// and every settings list of the sources is among those platformctl knows.
@Suite("The configuration reference (Deploy/CONFIGURATION.md)")
struct ConfigurationReferenceTests {
    static let root = TestDatabase.repositoryRoot

    @Test("Deploy/CONFIGURATION.md is exactly what platformctl config check --keys --markdown prints (make config-reference)")
    func upToDate() async throws {
        let printed = try await ChildProcess.runBuilt("platformctl", ["config", "check", "--keys", "--markdown"])
        #expect(printed.status == 0, "\(printed.output)")
        let file = try String(contentsOf: Self.root.appendingPathComponent("Deploy/CONFIGURATION.md"), encoding: .utf8)
        #expect(printed.output == file, "Deploy/CONFIGURATION.md is out of date: run make config-reference")
    }

    @Test("Every settings list in Sources is one platformctl documents")
    func everyListKnown() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let known = try String(contentsOf: sources.appendingPathComponent("platformctl/PlatformSettings.swift"), encoding: .utf8)
            + String(contentsOf: sources.appendingPathComponent("Core/Configuration/CoreSettings.swift"), encoding: .utf8)
        var lists: [String] = []
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift", file.deletingLastPathComponent().lastPathComponent != "platformctl",
                  let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            // A settings list is declared as `static let all: [any AnyConfigSetting]` in a type named after its file.
            if text.contains("static let all: [any AnyConfigSetting]") { lists.append(file.deletingPathExtension().lastPathComponent) }
        }
        #expect(lists.count >= 13, "\(lists)")
        for list in lists where list != "CoreSettings" {
            #expect(known.contains("\(list).all"), "\(list).all is not in PlatformSettings (or CoreSettings): its keys are undocumented")
        }
    }
}
