import Core
import Foundation
import MailPolicy

/// The `transport.*` settings of `palisade-transport` (DNS and HTTPS fetching are the shared `dns.*` and
/// `http.*` settings).
public enum TransportSettings {
    public static let socketmapHost = ConfigSetting.string(
        "transport.socketmap.host", default: "127.0.0.1",
        "Address the socketmap listener binds (Postfix's smtp_tls_policy_maps = socketmap:inet:HOST:PORT:NAME). Loopback unless Postfix runs elsewhere."
    )
    public static let socketmapPort = ConfigSetting.int(
        "transport.socketmap.port", default: 8461,
        "TCP port of the socketmap listener (8461, postfix-mta-sts-resolver's, so its map line keeps working; 0: any free port, logged at start; -1: none).",
        range: -1...65535
    )
    public static let socketmapPath = ConfigSetting.string(
        "transport.socketmap.path", default: "",
        "Path of a unix socket for the socketmap too (socketmap:unix:PATH:NAME). Empty: none."
    )
    public static let socketmapPathMode = ConfigSetting.string(
        "transport.socketmap.pathMode", default: "0660", "Permissions of the unix socket, octal (Postfix's user must be able to connect).",
        validate: { UInt16($0, radix: 8).map { $0 <= 0o777 } == true ? nil : "not an octal file mode such as 0660" }
    )
    public static let idleTimeout = ConfigSetting.duration(
        "transport.socketmap.idleTimeout", default: .seconds(60),
        "A socketmap connection silent this long is closed (Postfix closes its own after 10 s idle and reconnects when needed).",
        range: .seconds(1)...Duration.seconds(3600)
    )
    public static let maxConnections = ConfigSetting.int(
        "transport.socketmap.maxConnections", default: 4096, "Socketmap connections open at once; more are closed at once.", range: 1...1_000_000
    )
    public static let threads = ConfigSetting.int(
        "transport.socketmap.threads", default: 1,
        "Event-loop threads answering socketmap connections. One answers tens of thousands of cached look-ups a second (README.md, benchmark); more only on a busy many-core host.",
        range: 1...64
    )
    public static let profiles = ConfigSetting.stringList(
        "transport.profiles", default: ["postfix", "postfix-tlsrpt: mx=sts-attributes"],
        "Map names and how each is answered: NAME or \"NAME: option…\" with mx=hostnames (secure match= the MX host names the MTA-STS patterns allow; any Postfix), mx=sts-attributes (also Postfix 3.10's policy_type=sts attributes; Postfix 3.10 or later only) and strict-testing (a testing policy is enforced). An unknown map name is answered PERM.",
        validate: { list in
            var names: Set<String> = []
            for text in list {
                do {
                    let profile = try TransportProfile(parsing: text)
                    guard names.insert(profile.name).inserted else { return "map name \(profile.name) is given twice" }
                } catch let error as TransportProfileError { return error.description } catch { return "\(error)" }
            }
            return list.isEmpty ? "at least one profile is needed" : nil
        }
    )
    public static let deferWhenPolicyUnavailable = ConfigSetting.bool(
        "transport.mtaSts.deferWhenUnavailable", default: true,
        "A domain publishes an MTA-STS record but its policy cannot be fetched and none is cached: defer its mail (TEMP) rather than send it without MTA-STS, which RFC 8461 section 5 allows."
    )
    public static let policyPort = ConfigSetting.int(
        "transport.mtaSts.port", default: 443, "TCP port of policy hosts. RFC 8461 says 443; another value is for test worlds only.", range: 1...65535
    )
    public static let allowPrivateAddresses = ConfigSetting.bool(
        "transport.mtaSts.allowPrivateAddresses", default: false,
        "Fetch policies from hosts that resolve to loopback or private addresses (test worlds only)."
    )
    public static let fetchTimeout = ConfigSetting.duration(
        "transport.mtaSts.timeout", default: .seconds(10), "Deadline of one policy fetch, look-ups included.", range: .seconds(1)...Duration.seconds(120)
    )
    public static let recordCheckInterval = ConfigSetting.duration(
        "transport.mtaSts.recordCheckInterval", default: .seconds(3600),
        "How often the _mta-sts TXT record of a domain in use is looked at again (a changed id fetches the policy).",
        range: .seconds(10)...Duration.seconds(86_400)
    )
    public static let policyRefetchInterval = ConfigSetting.duration(
        "transport.mtaSts.refetchInterval", default: .seconds(86_400),
        "A policy in use is fetched again after this long (or half its max_age, if sooner) even if its id has not changed: it never expires while used.",
        range: .seconds(60)...Duration.seconds(30 * 86_400)
    )
    public static let retryInterval = ConfigSetting.duration(
        "transport.retryInterval", default: .seconds(300), "How soon a failed MTA-STS or DANE check is tried again.", range: .seconds(5)...Duration.seconds(86_400)
    )
    public static let daneMinimumLifetime = ConfigSetting.duration(
        "transport.dane.minimumLifetime", default: .seconds(60), "Shortest time a DANE result is used before it is looked up again, whatever the TTL.",
        range: .seconds(1)...Duration.seconds(86_400)
    )
    public static let daneMaximumLifetime = ConfigSetting.duration(
        "transport.dane.maximumLifetime", default: .seconds(3600), "Longest time a DANE result is used before it is looked up again, whatever the TTL.",
        range: .seconds(1)...Duration.seconds(86_400)
    )
    public static let daneFailureGrace = ConfigSetting.duration(
        "transport.dane.failureGrace", default: .seconds(3600),
        "How long a dane or dane-only result is kept while refreshes fail (DNS down); a result without DANE is never kept through a failure.",
        range: .seconds(0)...Duration.seconds(7 * 86_400)
    )
    public static let staleLimit = ConfigSetting.duration(
        "transport.staleLimit", default: .seconds(3600),
        "How long past its refresh time a cached state is still answered from while its refresh has not landed; after that the domain is checked again on the look-up path (as a new one is).",
        range: .seconds(10)...Duration.seconds(7 * 86_400)
    )
    public static let memoryEntries = ConfigSetting.int(
        "transport.memoryEntries", default: 100_000, "Domains each instance keeps in memory in front of PostgreSQL.", range: 100...10_000_000
    )
    public static let unusedRetention = ConfigSetting.duration(
        "transport.unusedRetention", default: .seconds(35 * 86_400),
        "Domains not looked up for this long leave the cache (and are no longer refreshed).", range: .seconds(3600)...Duration.seconds(400 * 86_400)
    )
    public static let proactiveWindow = ConfigSetting.duration(
        "transport.proactiveWindow", default: .seconds(86_400),
        "Domains looked up within this long are refreshed in the background when due (transport.sweep, every sweepInterval), so their look-ups never wait; others are checked again on their next look-up once stale.",
        range: .seconds(60)...Duration.seconds(90 * 86_400)
    )
    public static let sweepInterval = ConfigSetting.duration(
        "transport.sweepInterval", default: .seconds(60), "How often due refreshes of domains in use are queued (one instance does it).",
        range: .seconds(5)...Duration.seconds(3600)
    )
    public static let workers = ConfigSetting.int(
        "transport.workers", default: 8, "mta-sts.refresh and dane.refresh jobs handled at once.", range: 1...256
    )
    public static let httpHost = ConfigSetting.string(
        "transport.http.host", default: "127.0.0.1",
        "Address of the HTTP listener: /healthz, /metrics and our own MTA-STS policy (behind a TLS-terminating proxy for mta-sts.<domain>)."
    )
    public static let httpPort = ConfigSetting.int(
        "transport.http.port", default: 8467, "TCP port of the HTTP listener (0: any free port, logged at start).", range: 0...65535
    )
    public static let httpsCertificates = ConfigSetting.string(
        "transport.https.certificates", default: "",
        "Directory of certificates in certbot's layout (live/<name>/fullchain.pem and privkey.pem) for the HTTPS listener that serves our own MTA-STS policy to mta-sts.<domain> (each handshake gets the certificate naming the host asked for). Empty: no HTTPS listener (a proxy in front of transport.http serves HTTPS)."
    )
    public static let httpsHost = ConfigSetting.string(
        "transport.https.host", default: "127.0.0.1", "Address the HTTPS listener binds (0.0.0.0 or :: to serve the Internet directly)."
    )
    public static let httpsPort = ConfigSetting.int(
        "transport.https.port", default: 8468,
        "TCP port of the HTTPS listener (443 to serve senders directly: the unit then needs CAP_NET_BIND_SERVICE; 0: any free port, logged at start).",
        range: 0...65535
    )
    public static let httpsReloadInterval = ConfigSetting.duration(
        "transport.https.reloadInterval", default: .seconds(300),
        "How often the certificates directory is read again (also on SIGHUP: systemctl reload palisade-transport, e.g. from certbot's deploy hook).",
        range: .seconds(5)...Duration.seconds(86_400)
    )
    public static let ownPolicyDomains = ConfigSetting.stringList(
        "transport.ownPolicy.domains", default: [],
        "Our own domains whose MTA-STS policy this daemon serves at /.well-known/mta-sts.txt for mta-sts.<domain>, over transport.http (behind a proxy) and transport.https.",
        validate: { list in list.lazy.compactMap { (try? DomainName($0)) == nil ? "\"\($0)\" is not a domain name" : nil }.first }
    )
    public static let ownPolicyMode = ConfigSetting.string(
        "transport.ownPolicy.mode", default: "enforce", "Mode of our own policy: enforce, testing or none.",
        validate: { MTASTSPolicy.Mode(rawValue: $0) == nil ? "not enforce, testing or none" : nil }
    )
    public static let ownPolicyMX = ConfigSetting.stringList(
        "transport.ownPolicy.mx", default: [], "MX host patterns of our own policy (host names, or *.domain for one label).",
        validate: { list in list.lazy.compactMap { text -> String? in (try? MXPattern(text)) == nil ? "\"\(text)\" is not a host name or *.domain" : nil }.first }
    )
    public static let ownPolicyMaxAge = ConfigSetting.duration(
        "transport.ownPolicy.maxAge", default: .seconds(604_800), "max_age of our own policy (RFC 8461 recommends weeks; at most a year).",
        range: .seconds(86_400)...Duration.seconds(31_557_600)
    )

    public static let all: [any AnyConfigSetting] = [
        socketmapHost, socketmapPort, socketmapPath, socketmapPathMode, idleTimeout, maxConnections, threads, profiles, deferWhenPolicyUnavailable,
        policyPort, allowPrivateAddresses, fetchTimeout, recordCheckInterval, policyRefetchInterval, retryInterval, daneMinimumLifetime,
        daneMaximumLifetime, daneFailureGrace, staleLimit, memoryEntries, unusedRetention, proactiveWindow, sweepInterval, workers, httpHost, httpPort, httpsCertificates, httpsHost, httpsPort, httpsReloadInterval, ownPolicyDomains,
        ownPolicyMode, ownPolicyMX, ownPolicyMaxAge,
    ]

    /// The profiles by map name (validated at start).
    public static func profilesByName(_ config: PalisadeConfiguration) -> [String: TransportProfile] {
        var byName: [String: TransportProfile] = [:]
        for text in profiles.read(config) {
            if let profile = try? TransportProfile(parsing: text) { byName[profile.name] = profile }
        }
        return byName
    }

    public static func timing(_ config: PalisadeConfiguration) -> TransportPolicyChecker.Timing {
        TransportPolicyChecker.Timing(
            recordCheckInterval: recordCheckInterval.read(config), policyRefetchInterval: policyRefetchInterval.read(config),
            retryInterval: retryInterval.read(config), daneMinimumLifetime: daneMinimumLifetime.read(config),
            daneMaximumLifetime: daneMaximumLifetime.read(config), daneFailureGrace: daneFailureGrace.read(config))
    }

    public static func decisionOptions(_ config: PalisadeConfiguration) -> TransportDecision.Options {
        TransportDecision.Options(deferWhenPolicyUnavailable: deferWhenPolicyUnavailable.read(config), staleLimit: staleLimit.read(config))
    }

    public static func lookupOptions(_ config: PalisadeConfiguration) -> MTASTSLookup.Options {
        MTASTSLookup.Options(port: policyPort.read(config), allowPrivateAddresses: allowPrivateAddresses.read(config), timeout: fetchTimeout.read(config))
    }

    /// Our own policy as served, or nil when no domain is configured.
    public static func ownPolicy(_ config: PalisadeConfiguration) -> MTASTSPolicy? {
        guard !ownPolicyDomains.read(config).isEmpty else { return nil }
        let mode = MTASTSPolicy.Mode(rawValue: ownPolicyMode.read(config)) ?? .enforce
        return MTASTSPolicy(mode: mode, mx: ownPolicyMX.read(config).compactMap { try? MXPattern($0) }, maxAge: Int(ownPolicyMaxAge.read(config).inSeconds))
    }
}
