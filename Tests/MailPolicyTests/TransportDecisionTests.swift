import Core
import Foundation
import MailPolicy
import Testing

/// The decision alone: states and a time in, Postfix's answer out. The network cases are in
/// TransportPolicyTests; these are the ones the world cannot stage (time passing, refreshes not landing).
@Suite("Transport decision")
struct TransportDecisionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let postfix = TransportProfile(name: "postfix")

    static func dane(_ status: DANEResult.Status, validFor seconds: TimeInterval = 300) -> DANEState {
        DANEState(result: DANEResult(status: status, mxHosts: ["mx1.example.com", "mx2.other.example"], mxSecure: status != .none,
                                     daneHosts: status == .dane || status == .daneOnly ? ["mx1.example.com"] : [], reason: "r", ttl: 300),
                  checkedAt: now.addingTimeInterval(-10), validUntil: now.addingTimeInterval(seconds), nextCheckAt: now.addingTimeInterval(seconds))
    }

    static func sts(_ mode: MTASTSPolicy.Mode?, expiresIn seconds: TimeInterval = 3600, check: MTASTSState.Check = .policy,
                    nextCheckIn next: TimeInterval = 600) throws -> MTASTSState {
        MTASTSState(policy: try mode.map { MTASTSPolicy(mode: $0, mx: [try MXPattern("*.example.com")], maxAge: 86_400) }, policyID: "a1",
                    fetchedAt: now.addingTimeInterval(-60), expiresAt: now.addingTimeInterval(seconds), lastCheck: check,
                    checkedAt: now.addingTimeInterval(-60), nextCheckAt: now.addingTimeInterval(next))
    }

    static func decide(_ sts: MTASTSState, _ dane: DANEState, profile: TransportProfile = postfix,
                       options: TransportDecision.Options = .init()) -> TransportAnswer {
        TransportDecision.decide(TransportPolicyEntry(domain: "example.com", sts: sts, dane: dane), profile: profile, options: options, at: now)
    }

    @Test("DANE wins over MTA-STS; a DANE failure is TEMP even with an enforce policy")
    func danePrecedence() throws {
        #expect(Self.decide(try Self.sts(.enforce), Self.dane(.daneOnly)).reply == .ok("dane-only"))
        #expect(Self.decide(try Self.sts(.testing), Self.dane(.dane)).reply == .ok("dane"))
        #expect(Self.decide(try Self.sts(.enforce), Self.dane(.failed)).kind == .temporary)
        #expect(Self.decide(try Self.sts(.enforce), Self.dane(.noMail)).reply == .notFound)
        // Only the MX hosts the pattern allows: one label under example.com.
        #expect(Self.decide(try Self.sts(.enforce), Self.dane(.none)).reply == .ok("secure match=mx1.example.com servername=hostname"))
    }

    @Test("Some MX hosts with DANE and an enforce MTA-STS policy: dane-only, never opportunistic TLS for the others")
    func partialDANEWithEnforce() throws {
        #expect(Self.decide(try Self.sts(.enforce), Self.dane(.dane)).reply == .ok("dane-only"))
        #expect(Self.decide(try Self.sts(.testing), Self.dane(.dane)).reply == .ok("dane"))
        #expect(Self.decide(try Self.sts(.testing), Self.dane(.dane), profile: TransportProfile(name: "s", strictTesting: true)).reply == .ok("dane-only"))
        #expect(Self.decide(try Self.sts(nil, check: .none), Self.dane(.dane)).reply == .ok("dane"))
    }

    @Test("The decision can change at the policy's expiry or a half's stale limit, whichever is first")
    func changesAt() throws {
        let options = TransportDecision.Options(staleLimit: .seconds(600))
        let entry = TransportPolicyEntry(domain: "example.com", sts: try Self.sts(.enforce, expiresIn: 3600, nextCheckIn: 600), dane: Self.dane(.none, validFor: 300))
        #expect(TransportDecision.changesAt(entry, options: options) == Self.now.addingTimeInterval(900))
        let soon = TransportPolicyEntry(domain: "example.com", sts: try Self.sts(.enforce, expiresIn: 120), dane: Self.dane(.none, validFor: 300))
        #expect(TransportDecision.changesAt(soon, options: options) == Self.now.addingTimeInterval(120))
        #expect(entry.isStale(at: Self.now.addingTimeInterval(899), staleLimit: 600) == false)
        #expect(entry.isStale(at: Self.now.addingTimeInterval(900), staleLimit: 600))
    }

    @Test("testing and none give no requirement unless strict-testing; strict-testing enforces testing")
    func modes() throws {
        #expect(Self.decide(try Self.sts(.testing), Self.dane(.none)).reply == .notFound)
        #expect(Self.decide(try Self.sts(MTASTSPolicy.Mode.none), Self.dane(.none)).reply == .notFound)
        let strict = TransportProfile(name: "s", strictTesting: true)
        #expect(Self.decide(try Self.sts(.testing), Self.dane(.none), profile: strict).reply == .ok("secure match=mx1.example.com servername=hostname"))
        #expect(Self.decide(try Self.sts(MTASTSPolicy.Mode.none), Self.dane(.none), profile: strict).reply == .notFound)
    }

    @Test("A policy that expired before its refresh landed is TEMP, not plain text; an old one with no record left is no policy")
    func expiry() throws {
        #expect(Self.decide(try Self.sts(.enforce, expiresIn: -1), Self.dane(.none)).kind == .temporary)
        #expect(Self.decide(try Self.sts(.enforce, expiresIn: -1, check: .none), Self.dane(.none)).reply == .notFound)
        #expect(Self.decide(try Self.sts(nil, check: .dnsFailed), Self.dane(.none)).kind == .temporary)
        #expect(Self.decide(try Self.sts(nil, check: .fetchFailed), Self.dane(.none)).kind == .temporary)
        #expect(Self.decide(try Self.sts(nil, check: .fetchFailed), Self.dane(.none), options: .init(deferWhenPolicyUnavailable: false)).reply == .notFound)
        #expect(Self.decide(try Self.sts(nil, check: .unusable), Self.dane(.none)).reply == .notFound)
    }

    @Test("States whose refresh has not landed are used up to the stale limit, then the answer is TEMP")
    func staleLimit() throws {
        let options = TransportDecision.Options(staleLimit: .seconds(600))
        #expect(Self.decide(try Self.sts(.enforce), Self.dane(.daneOnly, validFor: -500), options: options).reply == .ok("dane-only"))
        #expect(Self.decide(try Self.sts(.enforce), Self.dane(.daneOnly, validFor: -700), options: options).kind == .temporary)
        #expect(Self.decide(try Self.sts(nil, check: .none, nextCheckIn: -500), Self.dane(.none), options: options).reply == .notFound)
        #expect(Self.decide(try Self.sts(nil, check: .none, nextCheckIn: -700), Self.dane(.none), options: options).kind == .temporary)
    }

    @Test("No MX host matching an enforce policy is TEMP; sts-attributes adds Postfix 3.10's attributes")
    func matching() throws {
        var noMatch = Self.dane(.none)
        noMatch.result.mxHosts = ["a.b.example.com", "example.com"]
        #expect(Self.decide(try Self.sts(.enforce), noMatch).kind == .temporary)
        let attributes = Self.decide(try Self.sts(.enforce), Self.dane(.none), profile: TransportProfile(name: "t", mxStyle: .stsAttributes))
        #expect(attributes.reply == .ok("secure match=mx1.example.com servername=hostname policy_type=sts policy_domain=example.com mx_host_pattern=*.example.com"
                                        + " { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: *.example.com }"
                                        + " { policy_string = max_age: 86400 }"))
    }

    @Test("Profiles are parsed from the configuration; an unknown option is an error naming it")
    func profiles() throws {
        #expect(try TransportProfile(parsing: "postfix") == TransportProfile(name: "postfix"))
        #expect(try TransportProfile(parsing: "p2: mx=sts-attributes strict-testing") == TransportProfile(name: "p2", mxStyle: .stsAttributes, strictTesting: true))
        #expect(throws: TransportProfileError("profile p: unknown option \"mx=all\" (known: mx=hostnames, mx=sts-attributes, strict-testing)")) {
            try TransportProfile(parsing: "p: mx=all")
        }
        #expect(throws: TransportProfileError.self) { try TransportProfile(parsing: "bad name") }
        #expect(throws: TransportProfileError.self) { try TransportProfile(parsing: ": strict-testing") }
    }

    @Test("Look-up keys: next hops, parent probes, addresses and single labels are not destinations")
    func keys() throws {
        #expect(TransportKey("Example.COM") == .domain(try DomainName("example.com")))
        #expect(TransportKey("example.com.") == .domain(try DomainName("example.com")))
        for other in ["[mx.example.com]", "[mx.example.com]:25", "mx.example.com:587", ".example.com", "192.0.2.1", "2001:db8::1", "localhost", "", "a..b"] {
            guard case .other = TransportKey(other) else { Issue.record("\(other) is not a destination domain"); continue }
        }
    }
}
