import Core
import CoreTestSupport
import Foundation
import MailPolicy
import Testing
import TransportPolicy

/// Every case of the README's table, decided from the real test world: signed and unsigned zones, bogus
/// and failing DNS, policy hosts that answer, fail, redirect or serve too much.
@Suite("Transport policy answers")
struct TransportAnswerTests {
    static let s = TransportWorld.secure

    /// key, profile, the reply Postfix reads, the kind.
    static let cases: [(String, String, String, TransportAnswer.Kind)] = [
        ("sts-enforce.\(s)", "postfix", "OK secure match=mx1.sts-enforce.\(s) servername=hostname", .stsEnforce),
        ("STS-Enforce.\(s)", "postfix", "OK secure match=mx1.sts-enforce.\(s) servername=hostname", .stsEnforce),
        ("sts-enforce.\(s)", "tlsrpt",
         "OK secure match=mx1.sts-enforce.\(s) servername=hostname policy_type=sts policy_domain=sts-enforce.\(s) mx_host_pattern=mx1.sts-enforce.\(s)"
            + " { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: mx1.sts-enforce.\(s) }"
            + " { policy_string = max_age: 86400 }", .stsEnforce),
        ("sts-testing.\(s)", "postfix", "NOTFOUND ", .noPolicy),
        ("sts-testing.\(s)", "strict", "OK secure match=mx.sts-testing.\(s) servername=hostname", .stsEnforce),
        ("sts-none.\(s)", "postfix", "NOTFOUND ", .noPolicy),
        // *.sts-wild matches a.sts-wild, not b.c.sts-wild.
        ("sts-wild.\(s)", "postfix", "OK secure match=a.sts-wild.\(s) servername=hostname", .stsEnforce),
        ("sts-two.\(s)", "postfix", "NOTFOUND ", .noPolicy),
        ("sts-dane.\(s)", "postfix", "OK dane-only", .daneOnly),
        ("sts-dane.\(s)", "tlsrpt", "OK dane-only", .daneOnly),
        (s, "postfix", "OK dane", .dane),
        ("dane-implicit.\(s)", "postfix", "OK dane-only", .daneOnly),
        ("dane-pkix.\(s)", "postfix", "NOTFOUND ", .noPolicy),
        ("nullmx.\(s)", "postfix", "NOTFOUND ", .noMail),
        ("insecure.palisade.example", "postfix", "OK secure match=mx.insecure.palisade.example servername=hostname", .stsEnforce),
        ("[mx1.sts-enforce.\(s)]:25", "postfix", "NOTFOUND ", .notADomain),
        ("[mx1.sts-enforce.\(s)]", "postfix", "NOTFOUND ", .notADomain),
        (".\(s)", "postfix", "NOTFOUND ", .notADomain),
        ("192.0.2.1", "postfix", "NOTFOUND ", .notADomain),
        ("localhost", "postfix", "NOTFOUND ", .notADomain),
    ]

    @Test("Each case gets its answer, from the network the first time and from memory after")
    func answers() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let resolver = world.policyResolver()
        for (key, profile, expected, kind) in Self.cases {
            let first = await resolver.answer(Socketmap.Request(name: profile, key: key))
            #expect(first.reply.text == expected, "\(key) (\(profile)): \(first.reason)")
            #expect(first.kind == kind, "\(key) (\(profile))")
            let again = try #require(resolver.immediateAnswer(Socketmap.Request(name: profile, key: key)), "\(key) is answered from memory")
            #expect(again == first)
        }
    }

    @Test("Failures are temporary, never a weaker policy: bogus, SERVFAIL, time-out, unfetchable policy, no matching MX")
    func temporary() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let resolver = world.policyResolver()
        let cases: [(String, String)] = [
            ("expired.palisade.example", "DANE"),
            ("lame.example.net", "SERVFAIL"),
            ("dead.palisade.example", "timed out"),
            ("sts-unavailable.\(Self.s)", "HTTP 503"),
            ("sts-oversize.\(Self.s)", "larger than 65536"),
            ("sts-wrongtype.\(Self.s)", "application/octet-stream"),
            ("sts-redirect.\(Self.s)", "redirect"),
            ("sts-nomatch.\(Self.s)", "no MX host"),
        ]
        for (key, reason) in cases {
            let answer = await resolver.answer(Socketmap.Request(name: "postfix", key: key))
            #expect(answer.kind == .temporary, "\(key): \(answer.reply)")
            #expect(answer.reply.text.hasPrefix("TEMP "), "\(key)")
            #expect(answer.reason.contains(reason), "\(key): \(answer.reason)")
        }
    }

    @Test("With deferWhenUnavailable off, an unfetchable policy with none cached is sent without MTA-STS (RFC 8461 section 5)")
    func rfcFallback() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let resolver = world.policyResolver(options: .init(deferWhenPolicyUnavailable: false))
        let answer = await resolver.answer(Socketmap.Request(name: "postfix", key: "sts-unavailable.\(Self.s)"))
        #expect(answer.reply == .notFound)
        #expect(answer.reason.contains("HTTP 503"))
    }

    @Test("An unknown map name is refused with PERM naming the known ones")
    func unknownMap() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let answer = await world.policyResolver().answer(Socketmap.Request(name: "nosuch", key: "sts-enforce.\(Self.s)"))
        #expect(answer.reply.text == "PERM unknown map name \"nosuch\" (this daemon answers: postfix, strict, tlsrpt)")
    }
}
