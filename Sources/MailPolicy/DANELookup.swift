import Core
import DNS

/// The DNS half of DANE for SMTP (RFC 7672 §2): a destination's MX hosts with DNSSEC, and for each host
/// whose MX RRset and addresses are secure, whether `_25._tcp.<host>` has usable TLSA records under a
/// secure chain. Postfix does the TLSA matching itself (`dane`, `dane-only`); this only decides whether
/// DANE applies, and to which hosts.
public struct DANELookup: Sendable {
    let resolver: DNSResolver
    /// The most MX hosts examined; the rest are ignored (and so never counted as DANE hosts).
    public static let maximumHosts = 16

    public init(resolver: DNSResolver) {
        self.resolver = resolver
    }

    public func check(_ domain: DomainName) async -> DANEResult {
        let mx: DNSAnswer<MXRecord>
        do {
            mx = try await resolver.mx(DNSName(domain))
        } catch {
            return .failed("the MX look-up failed: \(error)")
        }
        var hosts: [DNSName]
        switch mx.outcome {
        case .failed(let reason):
            return .failed("the MX look-up failed: \(reason)")
        case .noSuchName:
            return DANEResult(status: .noMail, mxHosts: [], mxSecure: mx.isSecure, daneHosts: [], reason: "\(domain) does not exist (NXDOMAIN)", ttl: mx.ttl)
        case .noRecords:
            // RFC 5321 §5.1 and RFC 7672 §2.2.2: no MX means the domain itself is the implicit MX host.
            hosts = [DNSName(domain)]
        case .records(let records):
            if records.contains(where: \.isNullMX) {
                return DANEResult(status: .noMail, mxHosts: [], mxSecure: mx.isSecure, daneHosts: [], reason: "\(domain) accepts no mail (null MX, RFC 7505)", ttl: mx.ttl)
            }
            hosts = []
            for record in records.sorted(by: { $0.preference < $1.preference }) where !hosts.contains(record.exchange) {
                hosts.append(record.exchange)
            }
        }
        hosts = Array(hosts.prefix(Self.maximumHosts))
        let names = hosts.map(\.description)
        guard mx.isSecure else {
            return DANEResult(status: .none, mxHosts: names, mxSecure: false, daneHosts: [],
                              reason: "the MX RRset is \(mx.security), not secure: no DANE", ttl: mx.ttl)
        }
        // Each host: secure addresses first, only then TLSA (RFC 7672 §2.2).
        let checks = await withTaskGroup(of: (Int, HostCheck).self) { group in
            for (index, host) in hosts.enumerated() {
                group.addTask { (index, await self.check(host: host)) }
            }
            var checks = [HostCheck?](repeating: nil, count: hosts.count)
            for await (index, check) in group { checks[index] = check }
            return checks.map { $0! }
        }
        var ttl = mx.ttl
        var daneHosts: [String] = []
        var reachable = 0
        var notes: [String] = []
        for (host, check) in zip(names, checks) {
            switch check {
            case .failed(let reason):
                return .failed("\(host): \(reason)")
            case .unreachable(let reason, let seconds):
                ttl = min(ttl, seconds)
                notes.append("\(host): \(reason)")
            case .noDANE(let reason, let seconds):
                ttl = min(ttl, seconds)
                reachable += 1
                notes.append("\(host): \(reason)")
            case .usable(let count, let seconds):
                ttl = min(ttl, seconds)
                reachable += 1
                daneHosts.append(host)
                notes.append("\(host): \(count) usable TLSA record\(count == 1 ? "" : "s")")
            }
        }
        let status: DANEResult.Status = daneHosts.isEmpty ? .none : daneHosts.count == reachable ? .daneOnly : .dane
        return DANEResult(status: status, mxHosts: names, mxSecure: true, daneHosts: daneHosts, reason: notes.joined(separator: "; "), ttl: ttl)
    }

    enum HostCheck {
        case usable(Int, ttl: UInt32)
        case noDANE(String, ttl: UInt32)
        /// No address at all: the host cannot take mail, so it does not count either way.
        case unreachable(String, ttl: UInt32)
        case failed(String)
    }

    func check(host: DNSName) async -> HostCheck {
        let addresses: DNSAddresses
        do {
            addresses = try await resolver.addresses(of: host)
        } catch {
            return .failed("the address look-up failed: \(error)")
        }
        let addressTTL = min(addresses.v4.ttl, addresses.v6.ttl)
        if case .bogus(let reason) = addresses.security { return .failed("its addresses are bogus: \(reason)") }
        if addresses.all.isEmpty {
            // A failed family with nothing in the other is a failure, not an absence.
            if case .failed(let reason) = addresses.v4.outcome { return .failed("the A look-up failed: \(reason)") }
            if case .failed(let reason) = addresses.v6.outcome { return .failed("the AAAA look-up failed: \(reason)") }
            return .unreachable("no A or AAAA records", ttl: addressTTL)
        }
        if case .failed(let reason) = addresses.v4.outcome { return .failed("the A look-up failed: \(reason)") }
        if case .failed(let reason) = addresses.v6.outcome { return .failed("the AAAA look-up failed: \(reason)") }
        guard addresses.security == .secure, addresses.v4.security != .insecure, addresses.v6.security != .insecure else {
            return .noDANE("its addresses are not secure", ttl: addressTTL)
        }
        // RFC 7672 §2.2.2: a securely followed CNAME makes its target the TLSA base domain, with the
        // original name as the fallback.
        let canonical = addresses.v4.cnameChain.last ?? addresses.v6.cnameChain.last
        var bases = [host]
        if let canonical, canonical != host { bases.insert(canonical, at: 0) }
        var ttl = addressTTL
        for base in bases {
            let answer: DNSAnswer<TLSARecord>
            do {
                answer = try await resolver.tlsa(try base.prepending("_25._tcp"))
            } catch {
                return .failed("the TLSA look-up failed: \(error)")
            }
            ttl = min(ttl, answer.ttl)
            switch answer.outcome {
            case .failed(let reason):
                return .failed("the TLSA look-up of _25._tcp.\(base) failed: \(reason)")
            case .noRecords, .noSuchName:
                continue
            case .records(let records):
                guard answer.isSecure else { return .noDANE("its TLSA records are \(answer.security), not secure", ttl: ttl) }
                let usable = records.filter(Self.isUsable).count
                guard usable > 0 else { return .noDANE("no usable TLSA record (only PKIX usages or unknown parameters)", ttl: ttl) }
                return .usable(usable, ttl: ttl)
            }
        }
        return .noDANE("no TLSA records", ttl: ttl)
    }

    /// RFC 7672 §3.1: DANE-TA(2) and DANE-EE(3); the selectors Cert(0) and SPKI(1); the matching types
    /// Full(0), SHA2-256(1) and SHA2-512(2). Anything else Postfix cannot use, so it does not count.
    static func isUsable(_ record: TLSARecord) -> Bool {
        (2...3).contains(record.usage) && (0...1).contains(record.selector) && (0...2).contains(record.matchingType)
    }
}

/// Whether DANE applies to a destination, and the MX hosts it has (which MTA-STS's match list also uses).
public struct DANEResult: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Every MX host that has addresses has usable TLSA under a secure chain.
        case daneOnly = "dane-only"
        /// Some do.
        case dane
        /// None do, or the MX RRset is insecure: MTA-STS decides.
        case none
        /// The domain does not exist or has a null MX: it takes no mail.
        case noMail = "no-mail"
        /// A look-up failed or was bogus: a temporary failure, never a downgrade.
        case failed
    }

    public var status: Status
    /// The MX host names in preference order (the implicit MX when there are no MX records); empty when
    /// the MX look-up failed.
    public var mxHosts: [String]
    public var mxSecure: Bool
    public var daneHosts: [String]
    /// Why, per host, for `platformctl transport check` and the logs.
    public var reason: String
    /// The shortest TTL of the answers it stands on.
    public var ttl: UInt32

    public init(status: Status, mxHosts: [String], mxSecure: Bool, daneHosts: [String], reason: String, ttl: UInt32) {
        self.status = status
        self.mxHosts = mxHosts
        self.mxSecure = mxSecure
        self.daneHosts = daneHosts
        self.reason = reason
        self.ttl = ttl
    }

    public static func failed(_ reason: String) -> DANEResult {
        DANEResult(status: .failed, mxHosts: [], mxSecure: false, daneHosts: [], reason: reason, ttl: 0)
    }
}
