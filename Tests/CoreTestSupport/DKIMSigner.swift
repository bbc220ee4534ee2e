import Foundation

/// dkimpy's `dkimsign` (PyPI, installed in `.build/test-venv` by `make test`): a real DKIM signer, with the
/// keys the test world made (DIR/dkim) and published under dkim.secure.palisade.example.
public enum DKIMSigner {
    /// `message` (CRLF) signed with the world's key `key` (rsa, small, ed) as selector `selector`.
    public static func sign(_ message: String, key: String, selector: String? = nil, algorithm: String = "rsa-sha256",
                            header: String = "relaxed", body: String = "simple", domain: String = "dkim.secure.palisade.example") async throws -> String {
        let world = try TestWorld.current()
        guard let venv = ProcessInfo.processInfo.environment["PALISADE_TEST_DKIMPY"], !venv.isEmpty else {
            throw TestWorld.Missing(description: "PALISADE_TEST_DKIMPY is not set: make test installs dkimpy in .build/test-venv")
        }
        let keyFile = URL(fileURLWithPath: world.certificateAuthorityFile).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("dkim/\(key).key").path
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-dkim-\(UUID().uuidString)")
        try message.write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        let command = "\(venv)/bin/dkimsign --hcanon \(header) --bcanon \(body) --signalg \(algorithm) \(selector ?? key) \(domain) \(keyFile) < \(input.path)"
        return try await ChildProcess.run("/bin/sh", ["-c", command])
    }
}
