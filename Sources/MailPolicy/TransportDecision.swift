import Core
import Foundation

/// What Postfix is told for one destination, and why (for `platformctl transport check`, logs and
/// metrics).
public struct TransportAnswer: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case daneOnly = "dane-only", dane, stsEnforce = "sts-enforce", noPolicy = "no-policy", noMail = "no-mail"
        case notADomain = "not-a-domain", temporary, refused
    }

    public let kind: Kind
    public let reply: Socketmap.Reply
    public let reason: String
    /// The reply as the netstring written to Postfix, made once.
    public let encodedReply: [UInt8]

    public init(kind: Kind, reply: Socketmap.Reply, reason: String) {
        self.kind = kind
        self.reply = reply
        self.reason = reason
        encodedReply = reply.encoded
    }
}

/// DANE and MTA-STS decided together (RFC 8461 §2: DANE takes precedence, and MTA-STS never overrides a
/// failing DANE validation). Pure: the same states and time give the same answer.
public enum TransportDecision {
    public struct Options: Sendable {
        /// A domain whose STS record exists but whose policy cannot be fetched, with no cached policy:
        /// true defers its mail (TEMP) rather than sending it without MTA-STS as RFC 8461 §5 allows.
        public var deferWhenPolicyUnavailable: Bool
        /// How long past its refresh time a state may still be used when refreshes keep failing to
        /// land; after that the answer is TEMP.
        public var staleLimit: Duration

        public init(deferWhenPolicyUnavailable: Bool = true, staleLimit: Duration = .seconds(3600)) {
            self.deferWhenPolicyUnavailable = deferWhenPolicyUnavailable
            self.staleLimit = staleLimit
        }
    }

    public static func decide(_ entry: TransportPolicyEntry, profile: TransportProfile, options: Options, at time: Date) -> TransportAnswer {
        let domain = entry.domain
        let staleLimit = options.staleLimit.inSeconds
        // DANE first: a failure is TEMP whatever MTA-STS says.
        let dane = entry.dane
        if time > dane.validUntil.addingTimeInterval(staleLimit) {
            return temporary("the DANE state of \(domain) is stale (checked \(dane.checkedAt.iso8601)) and could not be refreshed")
        }
        switch dane.result.status {
        case .failed:
            return temporary("DANE: \(dane.result.reason)")
        case .noMail:
            return TransportAnswer(kind: .noMail, reply: .notFound, reason: dane.result.reason)
        case .daneOnly:
            return TransportAnswer(kind: .daneOnly, reply: .ok("dane-only"), reason: "every MX host has usable TLSA under a secure chain: \(dane.result.reason)")
        case .dane:
            // Postfix's dane sends to hosts without TLSA with opportunistic TLS. Where an MTA-STS policy
            // requires authenticated TLS to every MX host, that would be a downgrade: dane-only keeps DANE's
            // precedence and sends only to the hosts DANE authenticates.
            if let policy = entry.sts.policy(at: time), policy.mode == .enforce || (policy.mode == .testing && profile.strictTesting) {
                return TransportAnswer(kind: .daneOnly, reply: .ok("dane-only"),
                                       reason: "some MX hosts have usable TLSA under a secure chain (\(dane.result.reason)), and MTA-STS \(policy.mode.rawValue) requires authenticated TLS for the others: only DANE hosts")
            }
            return TransportAnswer(kind: .dane, reply: .ok("dane"), reason: "some MX hosts have usable TLSA under a secure chain: \(dane.result.reason)")
        case .none:
            break
        }
        let daneNote = "no DANE (\(dane.result.reason))"
        let sts = entry.sts
        guard let policy = sts.policy(at: time) else {
            if time > sts.nextCheckAt.addingTimeInterval(staleLimit) {
                return temporary("the MTA-STS state of \(domain) is stale (checked \(sts.checkedAt.iso8601)) and could not be refreshed")
            }
            switch sts.lastCheck {
            case .dnsFailed:
                return temporary("MTA-STS: \(sts.detail ?? "the TXT look-up failed"), and no policy is cached")
            case .fetchFailed where options.deferWhenPolicyUnavailable:
                return temporary("MTA-STS: \(domain) publishes a policy that cannot be fetched (\(sts.detail ?? "unknown error")), and none is cached")
            case .fetchFailed:
                return noPolicy("\(daneNote); MTA-STS policy unavailable (\(sts.detail ?? "unknown error")): sent as without MTA-STS (RFC 8461 §5)")
            case .unusable:
                return noPolicy("\(daneNote); the MTA-STS record is unusable: \(sts.detail ?? "")")
            case .policy:
                // The record was there at the last check, and its policy expired before a refresh landed.
                return temporary("MTA-STS: the cached policy of \(domain) expired at \(sts.expiresAt?.iso8601 ?? "?") before it could be refreshed")
            case .none:
                return noPolicy("\(daneNote); no MTA-STS policy")
            }
        }
        switch policy.mode {
        case .none:
            return noPolicy("\(daneNote); the MTA-STS policy's mode is none")
        case .testing where !profile.strictTesting:
            return noPolicy("\(daneNote); the MTA-STS policy's mode is testing (report only)")
        case .testing, .enforce:
            break
        }
        let hosts = dane.result.mxHosts.filter { name in policy.mx.contains { $0.matches(hostName: name) } }
        guard !hosts.isEmpty else {
            // RFC 8461 §5: an MX host that does not match is not used; with none left, nothing is delivered,
            // and an enforce failure is temporary until the policy is looked at again (§5.1).
            return temporary("MTA-STS (\(policy.mode.rawValue)): no MX host of \(domain) (\(dane.result.mxHosts.joined(separator: ", "))) matches the policy's mx \(policy.mx.map(\.description).joined(separator: ", "))")
        }
        var data = "secure match=\(hosts.joined(separator: ":")) servername=hostname"
        if profile.mxStyle == .stsAttributes {
            data += " policy_type=sts policy_domain=\(domain)"
            data += policy.mx.map { " mx_host_pattern=\($0)" }.joined()
            data += policy.lines.map { " { policy_string = \($0) }" }.joined()
        }
        let mode = policy.mode == .testing ? "testing, enforced by strict-testing" : "enforce"
        return TransportAnswer(kind: .stsEnforce, reply: .ok(data),
                               reason: "\(daneNote); MTA-STS \(mode) (id \(sts.policyID ?? "?"), expires \(sts.expiresAt?.iso8601 ?? "?")); matching MX hosts: \(hosts.joined(separator: ", "))")
    }

    /// The earliest time at which `decide` could answer differently for the same entry: when a cached
    /// policy expires or a state outlives the stale limit. Until then its answer may be reused.
    public static func changesAt(_ entry: TransportPolicyEntry, options: Options) -> Date {
        let staleLimit = options.staleLimit.inSeconds
        var times = [entry.dane.validUntil.addingTimeInterval(staleLimit), entry.sts.nextCheckAt.addingTimeInterval(staleLimit)]
        if let expiry = entry.sts.expiresAt { times.append(expiry) }
        return times.min()!
    }

    static func temporary(_ reason: String) -> TransportAnswer {
        TransportAnswer(kind: .temporary, reply: .temp(reason), reason: reason)
    }

    static func noPolicy(_ reason: String) -> TransportAnswer {
        TransportAnswer(kind: .noPolicy, reply: .notFound, reason: reason)
    }
}

extension Date {
    /// For reasons: `Date.ISO8601FormatStyle` is a value (no formatter object made per call).
    var iso8601: String { formatted(.iso8601) }
}
