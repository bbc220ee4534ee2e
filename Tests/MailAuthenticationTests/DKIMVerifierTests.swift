import CoreTestSupport
import DNS
import Foundation
import Logging
@testable import MailPolicy
import Testing

/// Messages signed by a real signer, dkimpy's `dkimsign` (PyPI, in the test venv), with the keys the test
/// world made and published under dkim.secure.palisade.example, verified here.
@Suite("DKIM verification of dkimpy's signatures against the test world's keys")
struct DKIMVerifierTests {
    static let domain = "dkim.secure.palisade.example"
    static let message = """
        From: Alice <alice@dkim.secure.palisade.example>\r
        To: bob@example.org\r
        Subject: A test  of\r
         folded   headers\r
        Date: Sun, 29 Nov 2026 12:00:00 +0000\r
        Message-ID: <test-1@dkim.secure.palisade.example>\r
        \r
        Hello Bob,  \r
        \r
        the  body  has   runs of white space\t and trailing blanks.   \r
        \r
        \r
        """

    /// A signed copy of `message`.
    static func sign(_ selector: String, algorithm: String = "rsa-sha256", header: String = "relaxed", body: String = "simple",
                     message: String = message, domain: String = domain) async throws -> String {
        try await DKIMSigner.sign(message, key: selector == "sha1" ? "rsa" : selector, algorithm: algorithm, header: header, body: body, domain: domain)
    }

    /// Header fields (values raw, folding kept) and body of a CRLF message.
    static func split(_ text: String) -> ([MailHeaderField], [UInt8]) {
        let bytes = Array(text.utf8)
        var end = bytes.startIndex
        while end + 3 < bytes.count, bytes[end..<end + 4] != [13, 10, 13, 10] { end += 1 }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        var fields: [MailHeaderField] = []
        for line in head.components(separatedBy: "\r\n") {
            if line.first == " " || line.first == "\t", let last = fields.popLast() {
                fields.append(MailHeaderField(name: last.name, value: last.value + "\r\n" + line))
            } else if let colon = line.firstIndex(of: ":") {
                fields.append(MailHeaderField(name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
            }
        }
        return (fields, Array(bytes[min(end + 4, bytes.count)...]))
    }

    static func verify(_ signed: String, tamper: (inout [MailHeaderField], inout [UInt8]) -> Void = { _, _ in }) async throws -> [DKIMResult] {
        let world = try TestWorld.current()
        let resolver = try world.resolver(logger: Logger(label: "palisade.test.dkim"))
        defer { resolver.close() }
        var (headers, body) = split(signed)
        tamper(&headers, &body)
        return await DKIMVerifier(resolver: resolver).verify(headers: headers, body: body)
    }

    @Test("Signatures verify for every canonicalization and both algorithms", arguments: [
        ("rsa", "rsa-sha256", "relaxed", "simple"), ("rsa", "rsa-sha256", "simple", "simple"), ("rsa", "rsa-sha256", "relaxed", "relaxed"),
        ("rsa", "rsa-sha256", "simple", "relaxed"), ("ed", "ed25519-sha256", "relaxed", "relaxed"), ("ed", "ed25519-sha256", "simple", "simple"),
    ])
    func pass(selector: String, algorithm: String, header: String, body: String) async throws {
        let results = try await Self.verify(try await Self.sign(selector, algorithm: algorithm, header: header, body: body))
        #expect(results.count == 1)
        #expect(results.first?.kind == .pass, "\(results)")
        #expect(results.first?.domain == Self.domain && results.first?.selector == selector && results.first?.algorithm == algorithm)
    }

    @Test("A changed body or signed header fails; an added unsigned header does not")
    func tampering() async throws {
        let signed = try await Self.sign("rsa")
        var results = try await Self.verify(signed) { _, body in body += Array("P.S. added\r\n".utf8) }
        #expect(results.first?.kind == .fail && results.first?.reason.contains("body hash") == true, "\(results)")
        results = try await Self.verify(signed) { headers, _ in
            if let index = headers.firstIndex(where: { $0.name == "Subject" }) { headers[index] = MailHeaderField(name: "Subject", value: " changed") }
        }
        #expect(results.first?.kind == .fail && results.first?.reason.contains("does not verify") == true, "\(results)")
        results = try await Self.verify(signed) { headers, _ in headers.append(MailHeaderField(name: "X-Added", value: " by a relay")) }
        #expect(results.first?.kind == .pass, "\(results)")
        // A From added above, where mail programs look first: dkimpy signs From twice (over-signing, h=…:from), so the
        // second instance, absent when signed, is now there and the signature fails.
        results = try await Self.verify(signed) { headers, _ in headers.insert(MailHeaderField(name: "From", value: " mallory@example.net"), at: 0) }
        #expect(results.first?.kind == .fail, "\(results)")
        // A second From added below is taken first (bottom-up): the signature no longer covers what is shown.
        results = try await Self.verify(signed) { headers, _ in headers.append(MailHeaderField(name: "From", value: " mallory@example.net")) }
        #expect(results.first?.kind == .fail, "\(results)")
    }

    @Test("Keys and algorithms that must not pass: 512-bit RSA, a revoked key, no key, rsa-sha1, a bogus zone")
    func refusals() async throws {
        var results = try await Self.verify(try await Self.sign("small"))
        #expect(results.first?.kind == .policy && results.first?.reason.contains("512 bits") == true, "\(results)")
        results = try await Self.verify(try await Self.sign("sha1", algorithm: "rsa-sha1"))
        #expect(results.first?.kind == .permerror && results.first?.reason.contains("RFC 8301") == true, "\(results)")
        let signed = try await Self.sign("rsa")
        for (selector, kind) in [("revoked", DKIMResult.Kind.permerror), ("missing", .permerror)] {
            results = try await Self.verify(signed.replacingOccurrences(of: "s=rsa;", with: "s=\(selector);"))
            #expect(results.first?.kind == kind, "\(selector): \(results)")
        }
        results = try await Self.verify(signed.replacingOccurrences(of: "d=\(Self.domain);", with: "d=expired.palisade.example;")
            .replacingOccurrences(of: "i=@\(Self.domain);", with: "i=@expired.palisade.example;"))
        #expect(results.first?.kind == .temperror, "a bogus key answer is a temporary failure: \(results)")
    }

    @Test("Canonicalization by RFC 6376 section 3.4.6's example")
    func canonicalization() {
        let fields = [MailHeaderField(name: "A", value: " X"), MailHeaderField(name: "B ", value: " Y\t\r\n\tZ  ")]
        #expect(fields.map { String(decoding: DKIMCanonicalization.header($0, .relaxed), as: UTF8.self) } == ["a:X\r\n", "b:Y Z\r\n"])
        #expect(fields.map { String(decoding: DKIMCanonicalization.header($0, .simple), as: UTF8.self) } == ["A: X\r\n", "B : Y\t\r\n\tZ  \r\n"])
        let body = Array(" C \r\nD \t E\r\n\r\n\r\n".utf8)
        #expect(String(decoding: DKIMCanonicalization.body(body, .relaxed), as: UTF8.self) == " C\r\nD E\r\n")
        #expect(String(decoding: DKIMCanonicalization.body(body, .simple), as: UTF8.self) == " C \r\nD \t E\r\n")
        #expect(DKIMCanonicalization.body([], .simple) == [13, 10] && DKIMCanonicalization.body([], .relaxed).isEmpty)
        #expect(DKIMVerifier.withoutSignature(Array(" v=1; bh=abc; b=dGVz\r\n dA==; d=x".utf8)) == Array(" v=1; bh=abc; b=; d=x".utf8))
    }

    @Test("Malformed signatures are permerrors naming the tag", arguments: [
        ("v=1; a=rsa-sha256; d=example.com; s=s; h=to; bh=YQ==; b=YQ==", "must name the From"),
        ("v=2; a=rsa-sha256; d=example.com; s=s; h=from; bh=YQ==; b=YQ==", "v=2 is not 1"),
        ("v=1; a=rsa-md5; d=example.com; s=s; h=from; bh=YQ==; b=YQ==", "not a known algorithm"),
        ("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=YQ==", "no b= tag"),
        ("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=YQ==; b=YQ==; i=@other.org", "i= is not in d="),
        ("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=YQ==; b=YQ==; t=20; x=10", "x= is before t="),
        ("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=YQ==; b=YQ==; d=other.org", "appears more than once"),
        ("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=***; b=YQ==", "bh= is not base64"),
    ])
    func malformed(text: String, expected: String) {
        #expect {
            _ = try DKIMSignature.parse(text)
        } throws: { error in
            (error as? DKIMError)?.description.contains(expected) == true
        }
    }
}
