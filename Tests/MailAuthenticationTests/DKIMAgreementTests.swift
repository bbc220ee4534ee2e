import CoreTestSupport
import DNS
import Foundation
import Logging
import MailPolicy
import Testing

/// The same messages judged by dkimpy's verifier (dkim.verify, key records from the test world's validating
/// forwarder through dnspython) and by ours: the verdicts agree.
@Suite("DKIM verdicts agree with dkimpy's")
struct DKIMAgreementTests {
    static let script = """
        import sys, dkim, dns.resolver
        host, port = sys.argv[2].split("@")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = int(port)
        def txt(name, timeout=5):
            try:
                answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
            except Exception:
                return None
            return b"".join(b"".join(record.strings) for record in answer)
        message = open(sys.argv[1], "rb").read()
        print("pass" if dkim.verify(message, dnsfunc=txt) else "fail")
        """

    static func dkimpy(_ message: String) async throws -> Bool {
        let world = try TestWorld.current()
        let venv = ProcessInfo.processInfo.environment["PALISADE_TEST_DKIMPY"] ?? ""
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-agree-\(UUID().uuidString)")
        try message.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await PythonTools.shared.run(["verify", message]) {
            try await ChildProcess.run("\(venv)/bin/python3", ["-c", script, file.path, world.forwarder])
        }
        return output.trimmingCharacters(in: .whitespacesAndNewlines) == "pass"
    }

    @Test("Signed, tampered and weak messages: dkimpy and Palisade say the same", arguments: [
        ("rsa", "rsa-sha256", "relaxed", "simple", ""), ("rsa", "rsa-sha256", "simple", "simple", ""), ("ed", "ed25519-sha256", "relaxed", "relaxed", ""),
        ("rsa", "rsa-sha256", "relaxed", "relaxed", "body"), ("rsa", "rsa-sha256", "simple", "simple", "subject"), ("small", "rsa-sha256", "relaxed", "simple", ""),
        ("rsa", "rsa-sha256", "relaxed", "relaxed", "whitespace"), ("rsa", "rsa-sha256", "simple", "simple", "whitespace"),
    ])
    func agree(key: String, algorithm: String, header: String, body: String, tamper: String) async throws {
        var signed = try await DKIMSigner.sign(DKIMVerifierTests.message, key: key, algorithm: algorithm, header: header, body: body)
        switch tamper {
        case "body": signed += "P.S. added\r\n"
        case "subject": signed = signed.replacingOccurrences(of: "Subject: A test  of", with: "Subject: A test of")
        // Relaxed canonicalization forgives white space changes in the body; simple does not.
        case "whitespace": signed = signed.replacingOccurrences(of: "the  body  has", with: "the body has")
        default: break
        }
        let theirs = try await Self.dkimpy(signed)
        let ours = try await DKIMVerifierTests.verify(signed).first?.kind == .pass
        #expect(ours == theirs, "\(key) \(header)/\(body) \(tamper): dkimpy \(theirs), Palisade \(ours)")
        // Agreement must not be agreement on nothing: what is untouched and well keyed passes, what was changed does not.
        let expected = key != "small" && (tamper.isEmpty || (tamper == "whitespace" && body == "relaxed"))
        #expect(theirs == expected, "dkimpy on \(key) \(header)/\(body) \(tamper)")
    }
}
