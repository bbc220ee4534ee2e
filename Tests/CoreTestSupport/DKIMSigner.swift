import Foundation

/// dkimpy's `dkimsign` (PyPI, installed in `.build/test-venv` by `make test`): a real DKIM signer, with the
/// keys the test world made (DIR/dkim) and published under dkim.secure.palisade.example.
public enum DKIMSigner {
    /// `message` (CRLF) signed with the world's key `key` (rsa, small, ed) as selector `selector`. Signed once per
    /// input and run one at a time: dozens of Python start-ups at once on a small machine would starve the other
    /// tests running beside (whose clients have time limits).
    public static func sign(_ message: String, key: String, selector: String? = nil, algorithm: String = "rsa-sha256",
                            header: String = "relaxed", body: String = "simple", domain: String = "dkim.secure.palisade.example") async throws -> String {
        let request = [message, key, selector ?? key, algorithm, header, body, domain]
        return try await PythonTools.shared.run(request) {
            try await signNow(message, key: key, selector: selector, algorithm: algorithm, header: header, body: body, domain: domain)
        }
    }

    /// The `DKIM-Signature` field (CRLF-ended) dkimpy makes for `message` given as bytes, which need not be
    /// UTF-8 (8-bit header fields are signed as they are), with the world's key `key` as its selector.
    public static func signatureField(_ message: [UInt8], key: String, header: String = "relaxed", domain: String = "dkim.secure.palisade.example") async throws -> String {
        let (venv, keyFile) = try tool(key: key)
        let request = ["field", message.map { String($0, radix: 16) }.joined(separator: " "), key, header, domain]
        return try await PythonTools.shared.run(request) {
            let input = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-dkim-\(UUID().uuidString)")
            try Data(message).write(to: input)
            defer { try? FileManager.default.removeItem(at: input) }
            let script = """
                import sys, dkim
                message = open(sys.argv[1], "rb").read()
                key = open(sys.argv[4], "rb").read()
                canonicalize = (sys.argv[5].encode(), b"simple")
                sys.stdout.write(dkim.sign(message, sys.argv[2].encode(), sys.argv[3].encode(), key, canonicalize=canonicalize).decode("ascii"))
                """
            return try await ChildProcess.run("\(venv)/bin/python3", ["-c", script, input.path, key, domain, keyFile, header])
        }
    }

    /// dkimpy's virtual environment, and the file of the world's key `key`.
    private static func tool(key: String) throws -> (venv: String, keyFile: String) {
        let world = try TestWorld.current()
        guard let venv = ProcessInfo.processInfo.environment["PALISADE_TEST_DKIMPY"], !venv.isEmpty else {
            throw TestWorld.Missing(description: "PALISADE_TEST_DKIMPY is not set: make test installs dkimpy in .build/test-venv")
        }
        let keyFile = URL(fileURLWithPath: world.certificateAuthorityFile).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("dkim/\(key).key").path
        return (venv, keyFile)
    }

    private static func signNow(_ message: String, key: String, selector: String?, algorithm: String,
                                header: String, body: String, domain: String) async throws -> String {
        let (venv, keyFile) = try tool(key: key)
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-dkim-\(UUID().uuidString)")
        try message.write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        let command = "\(venv)/bin/dkimsign --hcanon \(header) --bcanon \(body) --signalg \(algorithm) \(selector ?? key) \(domain) \(keyFile) < \(input.path)"
        return try await ChildProcess.run("/bin/sh", ["-c", command])
    }
}

/// Runs the tests' Python tools (dkimpy) one at a time, remembering each result by its inputs.
public actor PythonTools {
    public static let shared = PythonTools()
    private var results: [[String]: String] = [:]
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public func run(_ key: [String], _ body: @Sendable () async throws -> String) async throws -> String {
        if let known = results[key] { return known }
        while busy { await withCheckedContinuation { waiting.append($0) } }
        // Woken with the tool free: whoever returns passes it on to the next waiter.
        defer { if !busy, !waiting.isEmpty { waiting.removeFirst().resume() } }
        if let known = results[key] { return known }
        busy = true
        defer { busy = false }
        let result = try await body()
        results[key] = result
        return result
    }
}
