import Core

/// What Postfix asked about in a TLS policy look-up key (smtp_tls_policy_maps): a destination domain, or
/// one of the keys that never get a policy from us and are answered at once, without network work.
public enum TransportKey: Sendable, Equatable {
    /// A destination domain, lower-case A-labels.
    case domain(DomainName)
    /// `[host]` or `[host]:port` (an explicit next hop, as in a transport or relayhost), `host:port`, an
    /// IP address literal, a `.parent.domain` probe, or something that is not a domain name: no policy
    /// (Postfix's own `smtp_tls_security_level` applies).
    case other(String)

    public init(_ key: String) {
        // Postfix lower-cases keys before asking; do it again for other clients.
        let key = key.lowercased()
        if key.hasPrefix("[") { self = .other("an explicit next hop"); return }
        if key.hasPrefix(".") { self = .other("a parent-domain probe"); return }
        if key.contains(":") { self = .other("a host with a port, or an IPv6 address"); return }
        if key.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            self = .other("an IPv4 address")
            return
        }
        // DomainName refuses a single label too: a local name, not a destination MTA-STS or DANE speaks for.
        guard let domain = try? DomainName(key) else { self = .other("not a domain name of two labels or more"); return }
        self = .domain(domain)
    }
}
