import Foundation

/// A throw-away GnuPG home: keys made by gpg, for the tests that need real ones.
public struct GnuPGHome: Sendable {
    public let home: URL

    public init() throws {
        try self.init(directory: FileManager.default.temporaryDirectory.appendingPathComponent("palisade-gpg-\(UUID().uuidString.prefix(8))"))
    }

    /// A home in `directory` (made if missing); whoever made it stops its agent (`remove()`, or
    /// `gpgconf --homedir DIR --kill all`).
    public init(directory: URL) throws {
        home = directory
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    public func gpg(_ arguments: [String], passphrase: String = "") async throws -> String {
        try await ChildProcess.run("/usr/bin/gpg", ["--homedir", home.path, "--batch", "--no-tty", "--quiet", "--pinentry-mode", "loopback",
                                                   "--passphrase", passphrase] + arguments)
    }

    /// A new Ed25519 key with a cv25519 subkey for `address` (and `Other <…>` User IDs for
    /// `otherAddresses`), protected by `passphrase` ("" for none); its fingerprint. Another key for the
    /// same address may be made (`--yes`); the fingerprint is the new one's, from gpg's status line.
    @discardableResult
    public func generate(_ address: String, passphrase: String, otherAddresses: [String] = []) async throws -> String {
        let status = try await gpg(["--yes", "--status-fd", "1", "--quick-gen-key", "Test <\(address)>", "ed25519", "default", "never"], passphrase: passphrase)
        guard let created = status.split(separator: "\n").first(where: { $0.hasPrefix("[GNUPG:] KEY_CREATED") }),
              let fingerprint = created.split(separator: " ").last.map(String.init) else {
            throw TestSetupError("gpg did not say which key it made for \(address)")
        }
        _ = try await gpg(["--quick-add-key", fingerprint, "cv25519", "encr", "never"], passphrase: passphrase)
        for other in otherAddresses { _ = try await gpg(["--quick-add-uid", fingerprint, "Other <\(other)>"], passphrase: passphrase) }
        return fingerprint
    }

    public func fingerprint(_ address: String) async throws -> String {
        try await gpg(["--with-colons", "--list-keys", address]).split(separator: "\n").first { $0.hasPrefix("fpr:") }
            .map { String($0.split(separator: ":", omittingEmptySubsequences: false)[9]) } ?? ""
    }

    public func publicKey(_ address: String) async throws -> [UInt8] {
        Array(try await gpg(["--armor", "--export", address]).utf8)
    }

    public func secretKey(_ address: String, passphrase: String) async throws -> [UInt8] {
        Array(try await gpg(["--armor", "--export-secret-keys", address], passphrase: passphrase).utf8)
    }

    /// Runs `body` with a new home and removes it afterwards (its agent stopped), thrown errors included.
    public static func with<T>(_ body: (GnuPGHome) async throws -> T) async throws -> T {
        let home = try GnuPGHome()
        do {
            let value = try await body(home)
            await home.remove()
            return value
        } catch {
            await home.remove()
            throw error
        }
    }

    public func remove() async {
        _ = try? await ChildProcess.run("/usr/bin/gpgconf", ["--homedir", home.path, "--kill", "all"])
        try? FileManager.default.removeItem(at: home)
    }

    /// A secret key, armored, for the refusal of secret material where a public key belongs.
    public static func armoredSecretKey() async throws -> [UInt8] {
        let maker = try GnuPGHome()
        try await maker.generate("secret@example.org", passphrase: "")
        let key = try await maker.secretKey("secret@example.org", passphrase: "")
        await maker.remove()
        return key
    }
}
