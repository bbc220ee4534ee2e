import Core
import DNS
import Foundation
import MailPolicy

/// The `transport.milter.*` settings: the DMARC milter of palisade-transport (Postfix `smtpd_milters`),
/// and how it enforces senders' DMARC policies.
public enum MilterSettings {
    public static let host = ConfigSetting.string("transport.milter.host", default: "127.0.0.1", "Address the milter listener binds.")
    public static let port = ConfigSetting.int(
        "transport.milter.port", default: -1,
        "TCP port of the milter listener (smtpd_milters = inet:HOST:PORT); -1: no milter; 0: any free port, logged at start.", range: -1...65535
    )
    public static let path = ConfigSetting.string(
        "transport.milter.path", default: "", "Unix socket of the milter (smtpd_milters = unix:PATH); empty: none."
    )
    public static let pathMode = ConfigSetting.string(
        "transport.milter.pathMode", default: "0660", "Permissions of the milter's unix socket, octal (Postfix's user must be able to connect).",
        validate: { UInt16($0, radix: 8) == nil ? "not an octal mode" : nil }
    )
    public static let enforce = ConfigSetting.bool(
        "transport.milter.enforce", default: true,
        "Apply senders' DMARC dispositions (reject, quarantine); false: only add Authentication-Results."
    )
    public static let allowList = ConfigSetting.stringList(
        "transport.milter.allowList", default: [],
        "Known-broken forwarders whose DMARC failures are not enforced: networks (192.0.2.0/24, 2001:db8::/32) or domains (matched against the client's verified name and an SPF-passing MAIL FROM domain).",
        validate: { list in
            do { _ = try MailAuthenticator.Configuration(authservID: "x", allowList: list) } catch { return "\(error)" }
            return nil
        }
    )
    public static let organizationalDomain = ConfigSetting.string(
        "transport.milter.organizationalDomain", default: "treewalk",
        "How DMARC finds Organizational Domains: treewalk (RFC 9989's DNS tree walk) or psl (RFC 7489, the Public Suffix List).",
        validate: { ["treewalk", "psl"].contains($0) ? nil : "must be treewalk or psl" }
    )
    public static let publicSuffixList = ConfigSetting.string(
        "transport.milter.publicSuffixList", default: PublicSuffixList.debianPath, "The Public Suffix List, for organizationalDomain psl."
    )
    public static let minimumRSABits = ConfigSetting.int(
        "transport.milter.minimumRSABits", default: 1024, "Smallest RSA key a DKIM signature may pass with (RFC 8301: at least 1024).", range: 1024...8192
    )
    public static let authservID = ConfigSetting.string(
        "transport.milter.authservID", default: "", "The authserv-id of Authentication-Results (RFC 8601); empty: this machine's host name."
    )
    public static let maxMessageSize = ConfigSetting.int(
        "transport.milter.maxMessageSize", default: 64 << 20,
        "Largest message authenticated, in bytes; a larger one is answered 451 (keep Postfix's message_size_limit below it).", range: 1024...(1 << 30)
    )

    public static let aggregateRetention = ConfigSetting.duration(
        "transport.milter.aggregateRetention", default: .seconds(31 * 86_400), "How long the per-day DMARC data (dmarc_aggregate) is kept.",
        range: .seconds(86_400)...Duration.seconds(400 * 86_400)
    )

    public static let all: [any AnyConfigSetting] = [host, port, path, pathMode, enforce, allowList, organizationalDomain, publicSuffixList, minimumRSABits, authservID, maxMessageSize,
                                                     aggregateRetention]

    /// The authenticator the settings describe.
    public static func authenticator(_ config: PalisadeConfiguration, resolver: DNSResolver) throws -> MailAuthenticator {
        let discovery: DMARCEvaluator.Discovery = organizationalDomain.read(config) == "psl"
            ? .publicSuffixList(try PublicSuffixList(contentsOf: publicSuffixList.read(config))) : .treeWalk
        let id = authservID.read(config)
        return MailAuthenticator(
            spf: SPFVerifier(resolver: resolver), dkim: DKIMVerifier(resolver: resolver, minimumRSABits: minimumRSABits.read(config)),
            dmarc: DMARCEvaluator(resolver: resolver, discovery: discovery),
            configuration: try MailAuthenticator.Configuration(authservID: id.isEmpty ? ProcessInfo.processInfo.hostName : id,
                                                               enforce: enforce.read(config), allowList: allowList.read(config)))
    }
}
