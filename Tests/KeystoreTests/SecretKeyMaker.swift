import CoreTestSupport
import Foundation

/// A secret key made by gpg, in a throw-away home, for the refusal of secret material.
enum SecretKeyMaker {
    static func armoredSecretKey() async throws -> [UInt8] {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-gpg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: home) }
        let gpg = ["--homedir", home.path, "--batch", "--no-tty", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
        _ = try await ChildProcess.run("/usr/bin/gpg", gpg + ["--quick-gen-key", "Secret <secret@example.org>", "ed25519", "default", "never"])
        let armored = try await ChildProcess.run("/usr/bin/gpg", gpg + ["--armor", "--export-secret-keys", "secret@example.org"])
        _ = try? await ChildProcess.run("/usr/bin/gpgconf", ["--homedir", home.path, "--kill", "all"])
        return Array(armored.utf8)
    }
}
