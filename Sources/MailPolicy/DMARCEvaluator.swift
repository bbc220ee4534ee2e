import Core
import DNS
import Foundation

/// What DMARC decided for one message (RFC 7489 §6.6, RFC 9989): the result, the policy that applies to
/// the From domain, and the disposition after `pct` and `t=`.
public struct DMARCVerdict: Sendable, Equatable {
    public enum Result: String, Sendable { case pass, fail, none, temperror, permerror }

    public let result: Result
    /// The RFC5322.From domain.
    public let fromDomain: String
    /// The domain whose record applied (nil: none found).
    public let policyDomain: String?
    /// The policy the record asks for this domain (p, sp or np).
    public let policy: DMARCRecord.Policy?
    /// What to do: the policy for a failure, lowered one step when `pct` did not sample it or `t=y`.
    public let disposition: DMARCRecord.Policy
    public let dkimAligned: Bool
    public let spfAligned: Bool
    /// The record that applied, for aggregate reports.
    public let record: DMARCRecord?
    public let reason: String
}

/// Evaluates DMARC: finds the policy record of the From domain and the Organizational Domains for
/// relaxed alignment either by RFC 9989's DNS tree walk (at most 8 queries, `psd=` honoured) or by the
/// Public Suffix List (RFC 7489), and judges SPF and DKIM alignment. Any DNS failure on the way is
/// `temperror`, never a pass or a "no policy".
public struct DMARCEvaluator: Sendable {
    public enum Discovery: Sendable {
        case treeWalk
        case publicSuffixList(PublicSuffixList)
    }

    let resolver: DNSResolver
    let discovery: Discovery
    /// Chooses whether a `pct` below 100 samples this message: a number in 0..<100.
    let sample: @Sendable () -> Int

    /// At most this many `_dmarc` queries per walk (RFC 9989).
    public static let maximumWalk = 8

    public init(resolver: DNSResolver, discovery: Discovery = .treeWalk, sample: @escaping @Sendable () -> Int = { Int.random(in: 0..<100) }) {
        self.resolver = resolver
        self.discovery = discovery
        self.sample = sample
    }

    /// `spf`: the SPF result of MAIL FROM and its domain; `dkim`: every signature's result.
    public func evaluate(fromDomain: String, spf: (kind: SPFResult.Kind, domain: String)?, dkim: [DKIMResult]) async -> DMARCVerdict {
        let from = fromDomain.lowercased()
        func verdict(_ result: DMARCVerdict.Result, _ reason: String, domain: String? = nil, record: DMARCRecord? = nil, policy: DMARCRecord.Policy? = nil,
                     disposition: DMARCRecord.Policy = .none, dkimAligned: Bool = false, spfAligned: Bool = false) -> DMARCVerdict {
            DMARCVerdict(result: result, fromDomain: from, policyDomain: domain, policy: policy, disposition: disposition, dkimAligned: dkimAligned,
                         spfAligned: spfAligned, record: record, reason: reason)
        }
        guard let fromName = try? DomainName(from) else { return verdict(.permerror, "the From domain \"\(from.prefix(80))\" is not a domain name") }
        // Identifiers are compared in their ASCII form (d= is written so).
        let fromASCII = fromName.ascii
        do {
            let policyDomain: String, record: DMARCRecord
            switch try await findPolicy(fromName) {
            case .nothing: return verdict(.none, "no DMARC record for \(from)")
            case let .unusable(name, .several(count)):
                return verdict(.none, "\(count) DMARC records at _dmarc.\(name): when there are several, none applies", domain: name)
            case let .unusable(name, discovery):
                return verdict(.permerror, "the DMARC record at _dmarc.\(name) is malformed: \(discovery.problem ?? "")", domain: name)
            case let .record(name, found): (policyDomain, record) = (name, found)
            }
            let fromOrganization = try await organizationalDomain(fromName)
            func aligned(_ domain: String, _ mode: DMARCRecord.Alignment) async throws -> Bool {
                guard let name = try? DomainName(domain) else { return false }
                if name.ascii == fromASCII { return true }
                // An Organizational Domain is a suffix of its name: only a name under ours can share it, so
                // nobody else's DNS is walked (and cannot delay our answer).
                guard mode == .relaxed, name.ascii == fromOrganization || name.ascii.hasSuffix("." + fromOrganization) else { return false }
                return try await organizationalDomain(name) == fromOrganization
            }
            var dkimAligned = false
            // A signature with l= shorter than the body leaves content anyone could have added: not for alignment.
            for result in dkim where result.kind == .pass && result.coversWholeBody {
                if try await aligned(result.domain, record.dkimAlignment) { dkimAligned = true; break }
            }
            var spfAligned = false
            if let spf, spf.kind == .pass { spfAligned = try await aligned(spf.domain, record.spfAlignment) }
            if !dkimAligned, !spfAligned, spf?.kind == .temperror || dkim.contains(where: { $0.kind == .temperror }) {
                // What a DNS failure hid might have aligned: decided later, never failed now.
                return verdict(.temperror, "no identifier aligned, and an SPF or DKIM look-up failed", domain: policyDomain, record: record)
            }
            // The policy for this domain: p at the policy domain itself; below it np for a domain that does
            // not exist, else sp, else p (RFC 9989 §5.3.1); only needed when nothing aligned.
            var policy = record.policy
            if policyDomain != fromASCII {
                policy = record.subdomainPolicy ?? record.policy
                if !dkimAligned, !spfAligned, let np = record.nonexistentPolicy, try await !exists(fromName) { policy = np }
            }
            // No p (the receiver's reading already made it p=none where a rua asks for reports): DMARC does not
            // apply (RFC 7489 §6.6.3 step 6, RFC 9989 §4.10.1).
            guard let policy else {
                return verdict(.none, "the record at _dmarc.\(policyDomain) has no p tag and no rua: DMARC does not apply", domain: policyDomain, record: record)
            }
            if dkimAligned || spfAligned {
                return verdict(.pass, dkimAligned ? "DKIM aligned with \(from)" : "SPF aligned with \(from)", domain: policyDomain, record: record,
                               policy: policy, dkimAligned: dkimAligned, spfAligned: spfAligned)
            }
            var disposition = policy
            var notes = ["neither SPF nor DKIM aligned with \(from)"]
            if record.percent < 100, sample() >= record.percent {
                disposition = Self.lowered(disposition)
                notes.append("pct=\(record.percent) did not sample this message")
            }
            if record.testing {
                disposition = Self.lowered(disposition)
                notes.append("t=y")
            }
            return verdict(.fail, notes.joined(separator: "; "), domain: policyDomain, record: record, policy: policy, disposition: disposition)
        } catch let failure as DMARCLookupFailure {
            return verdict(.temperror, failure.reason)
        } catch {
            return verdict(.temperror, "\(error)")
        }
    }

    /// RFC 7489 §6.6.4 and RFC 9989's t=y: one step less strict.
    static func lowered(_ policy: DMARCRecord.Policy) -> DMARCRecord.Policy {
        switch policy {
        case .reject: .quarantine
        case .quarantine, .none: .none
        }
    }

    /// Where discovery ended: at a record, at nothing, or at a name whose records make DMARC not apply:
    /// one malformed (RFC 7489 §6.6.3, RFC 9989 §4.10.1), or several under RFC 7489.
    enum Discovered {
        case record(String, DMARCRecord)
        case nothing
        case unusable(String, DMARCRecord.Discovery)
    }

    /// The record that applies to `domain`: its own, else by the tree walk (or the PSL's Organizational Domain).
    func findPolicy(_ domain: DomainName) async throws -> Discovered {
        let names: [String]
        switch discovery {
        case .publicSuffixList(let list):
            let organization = list.organizationalDomain(of: domain).ascii
            names = organization == domain.ascii ? [domain.ascii] : [domain.ascii, organization]
        case .treeWalk:
            names = Self.walk(domain)
        }
        for name in names {
            switch try await records(at: name) {
            case .none: continue
            // RFC 9989 discards several records at one name and walks on; RFC 7489 ends discovery there.
            case .several(let count):
                if case .treeWalk = discovery { continue }
                return .unusable(name, .several(count))
            case .record(let record): return .record(name, record)
            case let unusable: return .unusable(name, unusable)
            }
        }
        return .nothing
    }

    /// The Organizational Domain (RFC 9989 §4.10.2 by the walk, RFC 7489 §3.2 by the list).
    func organizationalDomain(_ domain: DomainName) async throws -> String {
        switch discovery {
        case .publicSuffixList(let list):
            return list.organizationalDomain(of: domain).ascii
        case .treeWalk:
            var found: String?
            let labels = domain.labels.map(String.init)
            for (index, name) in Self.walk(domain).enumerated() {
                guard case .record(let record) = try await records(at: name) else { continue }
                if record.publicSuffixDomain == "n" { return name }
                // psd=y: a public suffix; the Organizational Domain is one label below it (ignored on the
                // starting name itself, RFC 9989).
                if record.publicSuffixDomain == "y", index > 0 {
                    return labels.suffix(name.split(separator: ".").count + 1).joined(separator: ".")
                }
                found = name
            }
            return found ?? domain.ascii
        }
    }

    /// The names the walk queries: the domain, then (past 8 labels, from the 7 rightmost) one label less
    /// each time down to the top-level domain; at most 8.
    static func walk(_ domain: DomainName) -> [String] {
        let labels = domain.labels.map(String.init)
        var counts = [labels.count]
        var next = min(labels.count - 1, 7)
        while next >= 1, counts.count < maximumWalk {
            counts.append(next)
            next -= 1
        }
        return counts.map { labels.suffix($0).joined(separator: ".") }
    }

    /// What the TXT records at `_dmarc.<domain>` say (RFC 7489 §6.6.3).
    func records(at domain: String) async throws -> DMARCRecord.Discovery {
        let name = "_dmarc.\(domain)"
        let answer: DNSAnswer<TXTRecord>
        do { answer = try await resolver.txt(try DNSName(name)) } catch { throw DMARCLookupFailure(reason: "the look-up of \(name) failed: \(error)") }
        switch answer.outcome {
        case .failed(let reason): throw DMARCLookupFailure(reason: "the look-up of \(name) failed: \(reason)")
        case .noRecords, .noSuchName: return .none
        case .records(let records):
            if case .treeWalk = discovery { return DMARCRecord.discover(records.map(\.text), asReceiver: true) }
            return DMARCRecord.discover(records.map(\.text), asReceiver: true, knowsNP: false)
        }
    }

    /// Whether the domain exists in the DNS (for np=): NXDOMAIN for A, AAAA and MX is "does not exist".
    func exists(_ domain: DomainName) async throws -> Bool {
        let name = try DNSName(domain.ascii)
        do {
            let addresses = try await resolver.addresses(of: name)
            if case .noSuchName = addresses.v4.outcome, case .noSuchName = addresses.v6.outcome {
                let mx = try await resolver.mx(name)
                if case .noSuchName = mx.outcome { return false }
            }
            return true
        } catch {
            throw DMARCLookupFailure(reason: "the look-up of \(domain) failed: \(error)")
        }
    }
}

struct DMARCLookupFailure: Error {
    let reason: String
}
