import CoreTestSupport
import Foundation
import OpenPGP

/// The committed fixtures (made by Fixtures/make-fixtures.sh with gpg, sq and pysequoia) and the real
/// tools the tests compare against.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func certificate(_ name: String) throws -> Certificate {
        let certificates = try Certificate.parse(bytes(name))
        guard certificates.count == 1 else { throw Failure(description: "\(name) holds \(certificates.count) certificates") }
        return certificates[0]
    }

    /// The time the tests validate at: a day after make-fixtures.sh made the fixtures (its
    /// `validation-time`), so the tests do not start failing when the fixtures' keys expire in years.
    static let now: UInt32 = {
        let text = (try? String(contentsOf: directory.appendingPathComponent("validation-time"), encoding: .utf8)) ?? ""
        return UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }()

    struct Failure: Error, CustomStringConvertible { let description: String }
}

/// gpg in a throw-away home directory.
struct GnuPG {
    let home: URL

    init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-gpg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func remove() { try? FileManager.default.removeItem(at: home) }

    func run(_ arguments: [String]) async throws -> String {
        // No agent: these are public keys only, and an agent would outlive the home remove() deletes.
        try await ChildProcess.run("/usr/bin/gpg", ["--homedir", home.path, "--batch", "--no-tty", "--quiet", "--no-autostart"] + arguments)
    }

    /// `gpg --with-colons` for a file, without importing it.
    func colons(of file: String) async throws -> [[String]] {
        try await run(["--with-colons", "--import-options", "show-only", "--import", file])
            .split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Imports `bytes` and lists the keyring `--with-colons`.
    func importAndList(_ bytes: [UInt8]) async throws -> [[String]] {
        let file = home.appendingPathComponent("import-\(UUID().uuidString.prefix(8)).pgp")
        try Data(bytes).write(to: file)
        _ = try await run(["--import", file.path])
        return try await run(["--with-colons", "--list-keys"])
            .split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}
