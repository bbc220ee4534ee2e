import CoreTestSupport
import DNS
import Logging
import MailPolicy
import Testing

@Suite("SPF checks against the test world's signed zones")
struct SPFVerifierTests {
    static let s = "secure.palisade.example"

    @Test("Each record of the world gives RFC 7208's result for 127.0.0.1", arguments: [
        ("spf-pass", SPFResult.Kind.pass), ("spf-fail", .fail), ("spf-softfail", .softfail), ("spf-neutral", .neutral),
        ("spf-include", .pass), ("spf-a", .pass), ("spf-mx", .pass), ("spf-redirect", .pass), ("spf-redirect-none", .permerror),
        ("spf-exists", .pass), ("spf-loop", .permerror), ("spf-void", .permerror), ("spf-two", .permerror),
        ("spf-syntax", .permerror), ("spf-temp", .temperror), ("spf-multi", .pass), ("spf-none", .none), ("nothing-here", .none),
    ])
    func results(name: String, expected: SPFResult.Kind) async throws {
        let world = try TestWorld.current()
        let resolver = try world.resolver(logger: Logger(label: "palisade.test.spf"))
        defer { resolver.close() }
        let result = await SPFVerifier(resolver: resolver).checkMailFrom(ip: IPAddress("127.0.0.1")!, mailFrom: "alice@\(name).\(Self.s)", helo: "client.example")
        #expect(result.kind == expected, "\(name): \(result.reason)")
    }

    @Test("Macros reach DNS: the local part decides, and IPv6 follows ip6 mechanisms only")
    func macrosAndFamilies() async throws {
        let world = try TestWorld.current()
        let resolver = try world.resolver(logger: Logger(label: "palisade.test.spf"))
        defer { resolver.close() }
        let verifier = SPFVerifier(resolver: resolver)
        let ip = IPAddress("127.0.0.1")!
        #expect(await verifier.checkMailFrom(ip: ip, mailFrom: "alice@spf-macro.\(Self.s)", helo: "x.example").kind == .pass)
        #expect(await verifier.checkMailFrom(ip: ip, mailFrom: "mallory@spf-macro.\(Self.s)", helo: "x.example").kind == .fail)
        #expect(await verifier.checkMailFrom(ip: IPAddress("::1")!, mailFrom: "a@spf-pass.\(Self.s)", helo: "x.example").kind == .pass)
        #expect(await verifier.checkMailFrom(ip: IPAddress("::1")!, mailFrom: "a@spf-a.\(Self.s)", helo: "x.example").kind == .fail)
        // The null sender is checked as postmaster@HELO; HELO has its own check.
        #expect(await verifier.checkMailFrom(ip: ip, mailFrom: "", helo: "spf-pass.\(Self.s)").kind == .pass)
        #expect(await verifier.checkHelo(ip: ip, helo: "spf-fail.\(Self.s)").kind == .fail)
        #expect(await verifier.checkMailFrom(ip: ip, mailFrom: "a@not..valid", helo: "x.example").kind == .none)
    }
}
