import Core
import DNS
import Foundation

/// The outcome of an SPF check (RFC 7208 §2.6), with what led to it.
public struct SPFResult: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case none, neutral, pass, fail, softfail, temperror, permerror
    }

    public let kind: Kind
    /// The domain whose record was checked first.
    public let domain: String
    /// The directive that matched, or why there is no match, in words.
    public let reason: String
}

/// RFC 7208's `check_host()`: whether `ip` may send mail for a domain, by its SPF record, with the RFC's
/// limits (10 DNS-querying terms, 2 void look-ups, 10 MX names, 10 PTR names per term). DNS failures
/// (SERVFAIL, a time-out, a bogus DNSSEC answer) are `temperror`, never an empty answer.
public struct SPFVerifier: Sendable {
    let resolver: DNSResolver
    public static let lookupLimit = 10
    public static let voidLookupLimit = 2

    public init(resolver: DNSResolver) {
        self.resolver = resolver
    }

    /// The MAIL FROM identity (§2.4): its domain, or for the null sender the HELO name as
    /// `postmaster@<helo>`; a local part that is empty is `postmaster`.
    public func checkMailFrom(ip: IPAddress, mailFrom: String, helo: String) async -> SPFResult {
        let sender: String
        if mailFrom.isEmpty {
            sender = "postmaster@" + helo
        } else if let at = mailFrom.lastIndex(of: "@") {
            sender = (at == mailFrom.startIndex ? "postmaster" : String(mailFrom[..<at])) + mailFrom[at...]
        } else {
            sender = "postmaster@" + mailFrom
        }
        let domain = String(sender[sender.index(after: sender.lastIndex(of: "@")!)...])
        return await check(ip: ip, domain: domain, sender: sender, helo: helo)
    }

    /// The HELO identity (§2.3): `postmaster@<helo>`.
    public func checkHelo(ip: IPAddress, helo: String) async -> SPFResult {
        await check(ip: ip, domain: helo, sender: "postmaster@" + helo, helo: helo)
    }

    /// `check_host(ip, domain, sender)`.
    public func check(ip: IPAddress, domain: String, sender: String, helo: String) async -> SPFResult {
        // An IPv4-mapped IPv6 address is its IPv4 address (§5).
        let address = Self.unmapped(ip)
        let budget = Budget()
        let (kind, reason) = await evaluate(domain: domain, sender: sender, ip: address, helo: helo, budget: budget, depth: 0)
        return SPFResult(kind: kind, domain: domain, reason: reason)
    }

    /// Counts shared by a check and all its includes and redirects.
    private final class Budget {
        var lookups = 0
        var voids = 0
        /// `%{p}` by domain: looked up once per check, however often a record writes it.
        var validatedNames: [String: String] = [:]
    }

    private struct Abort: Error {
        let kind: SPFResult.Kind
        let reason: String
    }

    private func evaluate(domain: String, sender: String, ip: IPAddress, helo: String, budget: Budget, depth: Int) async -> (SPFResult.Kind, String) {
        guard let name = Self.validDomain(domain) else { return (.none, "\"\(domain.prefix(80))\" is not a domain name") }
        let answer: DNSAnswer<TXTRecord>
        do {
            answer = try await resolver.txt(name)
        } catch {
            return (.temperror, "the TXT look-up of \(domain) failed: \(error)")
        }
        let texts: [String]
        switch answer.outcome {
        case .records(let records): texts = records.map(\.text)
        case .noRecords, .noSuchName: texts = []
        case .failed(let reason): return (.temperror, "the TXT look-up of \(domain) failed: \(reason)")
        }
        let spf = texts.filter(SPFRecord.isSPF)
        guard !spf.isEmpty else { return (.none, "\(domain) publishes no SPF record") }
        guard spf.count == 1 else { return (.permerror, "\(domain) publishes \(spf.count) SPF records") }
        let record: SPFRecord
        do { record = try SPFRecord.parse(spf[0]) } catch { return (.permerror, "\(domain): \(error)") }
        let values = SPFMacroString.Values(sender: sender, domain: domain, ip: ip, helo: helo) { [self, budget] in
            if let known = budget.validatedNames[domain] { return known }
            let name = await self.validatedName(of: ip, near: domain)
            budget.validatedNames[domain] = name
            return name
        }
        do {
            for directive in record.directives {
                if directive.mechanism.queriesDNS {
                    budget.lookups += 1
                    guard budget.lookups <= Self.lookupLimit else { throw Abort(kind: .permerror, reason: "more than \(Self.lookupLimit) DNS-querying terms") }
                }
                if try await matches(directive.mechanism, values: values, budget: budget, depth: depth) {
                    let kind: SPFResult.Kind = switch directive.qualifier {
                    case .pass: .pass
                    case .fail: .fail
                    case .softfail: .softfail
                    case .neutral: .neutral
                    }
                    return (kind, "\(domain): \(directive.text) matched \(ip)")
                }
            }
            if let redirect = record.redirect {
                budget.lookups += 1
                guard budget.lookups <= Self.lookupLimit else { throw Abort(kind: .permerror, reason: "more than \(Self.lookupLimit) DNS-querying terms") }
                let target = await target(redirect, values: values)
                let (kind, reason) = await evaluate(domain: target, sender: sender, ip: ip, helo: helo, budget: budget, depth: depth + 1)
                // §6.1: a redirect to a domain without a record is a permerror.
                return kind == .none ? (.permerror, "redirect=\(target): \(reason)") : (kind, reason)
            }
            return (.neutral, "\(domain): no term matched \(ip)")
        } catch let abort as Abort {
            return (abort.kind, abort.reason)
        } catch {
            return (.permerror, "\(error)")
        }
    }

    private func matches(_ mechanism: SPFRecord.Mechanism, values: SPFMacroString.Values, budget: Budget, depth: Int) async throws -> Bool {
        let ip = values.ip
        switch mechanism {
        case .all:
            return true
        case let .ip4(network, prefix):
            return !ip.isIPv6 && Self.contains(network, prefix: prefix, ip.bytes)
        case let .ip6(network, prefix):
            return ip.isIPv6 && Self.contains(network, prefix: prefix, ip.bytes)
        case .include(let spec):
            guard depth < 20 else { throw Abort(kind: .permerror, reason: "includes nested too deep") }
            let target = await target(spec, values: values)
            let (kind, reason) = await evaluate(domain: target, sender: values.sender, ip: ip, helo: values.helo, budget: budget, depth: depth + 1)
            switch kind {
            case .pass: return true
            case .fail, .softfail, .neutral: return false
            case .temperror: throw Abort(kind: .temperror, reason: "include:\(target): \(reason)")
            case .permerror, .none: throw Abort(kind: .permerror, reason: "include:\(target): \(reason)")
            }
        case let .a(spec, v4, v6):
            let name = try await lookupName(spec, values: values)
            let addresses = try await self.addresses(of: name, family: ip, budget: budget, countsVoid: true)
            return addresses.contains { Self.contains($0.bytes, prefix: ip.isIPv6 ? v6 : v4, ip.bytes) }
        case let .mx(spec, v4, v6):
            let name = try await lookupName(spec, values: values)
            let exchanges = try await records({ try await resolver.mx(name) }, of: name, budget: budget)
            guard exchanges.count <= 10 else { throw Abort(kind: .permerror, reason: "\(name) has more than 10 MX records") }
            for exchange in exchanges where !exchange.isNullMX {
                let addresses = try await self.addresses(of: exchange.exchange, family: ip, budget: budget, countsVoid: false)
                if addresses.contains(where: { Self.contains($0.bytes, prefix: ip.isIPv6 ? v6 : v4, ip.bytes) }) { return true }
            }
            return false
        case .ptr(let spec):
            let target = spec == nil ? values.domain : await self.target(spec!, values: values)
            let names = await validatedNames(of: ip)
            guard let wanted = try? DNSName(target) else { return false }
            return names.contains { $0.isSubdomain(of: wanted) }
        case .exists(let spec):
            let name = try await lookupName(spec, values: values)
            // Always an A query, whatever the connection's family (§5.7).
            return !(try await records({ try await resolver.lookup(name, ARecord.self) }, of: name, budget: budget)).isEmpty
        }
    }

    /// A mechanism's target after expansion, cut to 253 octets from the left (§4.8, §7.3).
    private func target(_ spec: SPFMacroString, values: SPFMacroString.Values) async -> String {
        var expanded = await spec.expand(values)
        if expanded.hasSuffix(".") { expanded.removeLast() }
        while expanded.utf8.count > 253, let dot = expanded.firstIndex(of: ".") { expanded = String(expanded[expanded.index(after: dot)...]) }
        return expanded
    }

    private func lookupName(_ spec: SPFMacroString?, values: SPFMacroString.Values) async throws -> DNSName {
        let text = spec == nil ? values.domain : await target(spec!, values: values)
        guard let name = Self.validDomain(text) else { throw Abort(kind: .permerror, reason: "\"\(text.prefix(80))\" is not a domain name") }
        return name
    }

    /// The records of a mechanism's query; a failure ends the check with temperror, an empty answer
    /// counts as a void look-up (more than two: permerror, §4.6.4).
    private func records<Record: DNSRecord>(_ answer: () async throws -> DNSAnswer<Record>, of name: DNSName, budget: Budget, countsVoid: Bool = true) async throws -> [Record] {
        let found: DNSAnswer<Record>
        do { found = try await answer() } catch { throw Abort(kind: .temperror, reason: "the \(Record.type) look-up of \(name) failed: \(error)") }
        switch found.outcome {
        case .records(let records): return records
        case .noRecords, .noSuchName:
            if countsVoid {
                budget.voids += 1
                guard budget.voids <= Self.voidLookupLimit else { throw Abort(kind: .permerror, reason: "more than \(Self.voidLookupLimit) void look-ups") }
            }
            return []
        case .failed(let reason): throw Abort(kind: .temperror, reason: "the \(Record.type) look-up of \(name) failed: \(reason)")
        }
    }

    /// A or AAAA of `name`, whichever family the connection is (§5.3): the other could not match.
    private func addresses(of name: DNSName, family ip: IPAddress, budget: Budget, countsVoid: Bool) async throws -> [IPAddress] {
        if ip.isIPv6 {
            return try await records({ try await resolver.lookup(name, AAAARecord.self) }, of: name, budget: budget, countsVoid: countsVoid).map(\.address)
        }
        return try await records({ try await resolver.lookup(name, ARecord.self) }, of: name, budget: budget, countsVoid: countsVoid).map(\.address)
    }

    /// The names of `ip` (PTR) whose A/AAAA records include it, at most 10 tried (§5.5); failures are no names.
    private func validatedNames(of ip: IPAddress) async -> [DNSName] {
        guard let reverse = try? DNSName(Self.reverseName(ip)), let answer = try? await resolver.ptr(reverse), let names = try? answer.records() else { return [] }
        var validated: [DNSName] = []
        for record in names.prefix(10) {
            guard let found = try? await resolver.addresses(of: record.target) else { continue }
            if found.all.contains(ip) { validated.append(record.target) }
        }
        return validated
    }

    /// `%{p}`: the validated name equal to `domain`, else one below it, else any, else "unknown" (§7.3).
    private func validatedName(of ip: IPAddress, near domain: String) async -> String {
        let names = await validatedNames(of: ip)
        guard let wanted = try? DNSName(domain) else { return names.first?.description ?? "unknown" }
        return (names.first { $0 == wanted } ?? names.first { $0.isSubdomain(of: wanted) } ?? names.first)?.description ?? "unknown"
    }

    static func reverseName(_ ip: IPAddress) -> String {
        if ip.isIPv6 { return SPFMacroString.dotted(ip).split(separator: ".").reversed().joined(separator: ".") + ".ip6.arpa" }
        return ip.bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa"
    }

    /// A name SPF may look up: LDH labels of 1–63 octets, at least two labels, at most 253 octets (§4.3).
    static func validDomain(_ text: String) -> DNSName? {
        var text = text
        if text.hasSuffix(".") { text.removeLast() }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, text.utf8.count <= 253,
              labels.allSatisfy({ (1...63).contains($0.utf8.count) && $0.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } }) else { return nil }
        return try? DNSName(text)
    }

    static func unmapped(_ ip: IPAddress) -> IPAddress {
        let bytes = ip.bytes
        guard ip.isIPv6, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return ip }
        return IPAddress(bytes: bytes.suffix(4)) ?? ip
    }

    /// Whether `address` lies in `network`/`prefix` (same length byte arrays).
    static func contains(_ network: [UInt8], prefix: Int, _ address: [UInt8]) -> Bool {
        guard network.count == address.count else { return false }
        var bits = prefix
        for index in network.indices where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if network[index] & mask != address[index] & mask { return false }
            bits -= 8
        }
        return true
    }
}
