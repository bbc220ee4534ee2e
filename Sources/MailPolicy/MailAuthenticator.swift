import Core
import DNS
import Foundation

/// A message as the milter saw it: the client, the envelope sender, the header fields and the body.
public struct ReceivedMessage: Sendable {
    public var clientAddress: IPAddress?
    /// The client's host name as the MTA verified it ("unknown" when it could not).
    public var clientName: String
    public var helo: String
    /// The MAIL FROM address without angle brackets; empty for the null sender.
    public var mailFrom: String
    public var headers: [MailHeaderField]
    public var body: [UInt8]

    public init(clientAddress: IPAddress?, clientName: String = "unknown", helo: String, mailFrom: String, headers: [MailHeaderField] = [], body: [UInt8] = []) {
        self.clientAddress = clientAddress
        self.clientName = clientName
        self.helo = helo
        self.mailFrom = mailFrom
        self.headers = headers
        self.body = body
    }
}

/// SPF, DKIM and DMARC for one message, and what to do about it.
public struct AuthenticationOutcome: Sendable {
    public enum Action: Sendable, Equatable {
        case accept
        /// `550 5.7.1 …`.
        case reject(String)
        case quarantine(String)
        /// `451 4.7.… `: a DNS failure, never a pass.
        case tempfail(String)

        var disposition: DMARCRecord.Policy {
            switch self {
            case .reject: .reject
            case .quarantine: .quarantine
            case .accept, .tempfail: .none
            }
        }
    }

    /// The connecting client.
    public let clientAddress: IPAddress?
    public let spf: SPFResult?
    public let helo: SPFResult?
    public let dkim: [DKIMResult]
    public let dmarc: DMARCVerdict?
    public let action: Action
    /// The Authentication-Results header field value (RFC 8601), starting with our authserv-id.
    public let authenticationResults: String

    /// The disposition actually applied (what `dis=` and aggregate reports say): none when the policy was
    /// not enforced (`enforce: false`, the allow-list) or the message was accepted.
    public var appliedDisposition: DMARCRecord.Policy { action.disposition }
}

/// Runs SPF (MAIL FROM and HELO), DKIM and DMARC on a message and turns the DMARC disposition into an
/// action, per the configuration: enforce or only report, with an allow-list of known-broken forwarders
/// (networks, or domains matched against the client's verified name and the SPF-passing MAIL FROM domain).
public struct MailAuthenticator: Sendable {
    public struct Configuration: Sendable {
        /// The authserv-id of Authentication-Results: our host name.
        public var authservID: String
        /// Apply DMARC dispositions; false: headers only.
        public var enforce: Bool
        public var allowedNetworks: [(network: [UInt8], prefix: Int)]
        public var allowedDomains: [String]

        public init(authservID: String, enforce: Bool = true, allowList: [String] = []) throws(MailAuthenticatorConfigurationError) {
            self.authservID = authservID
            self.enforce = enforce
            allowedNetworks = []
            allowedDomains = []
            for entry in allowList {
                let parts = entry.split(separator: "/", maxSplits: 1)
                if let address = IPAddress(String(parts[0])) {
                    let maximum = address.isIPv6 ? 128 : 32
                    guard let prefix = parts.count == 2 ? Int(parts[1]) : maximum, (0...maximum).contains(prefix) else {
                        throw MailAuthenticatorConfigurationError("\(entry): not a network")
                    }
                    allowedNetworks.append((address.bytes, prefix))
                } else if (try? DomainName(entry)) != nil {
                    allowedDomains.append(entry.lowercased())
                } else {
                    throw MailAuthenticatorConfigurationError("\(entry): neither a network nor a domain")
                }
            }
        }
    }

    let spf: SPFVerifier
    let dkim: DKIMVerifier
    let dmarc: DMARCEvaluator
    public let configuration: Configuration

    public init(spf: SPFVerifier, dkim: DKIMVerifier, dmarc: DMARCEvaluator, configuration: Configuration) {
        self.spf = spf
        self.dkim = dkim
        self.dmarc = dmarc
        self.configuration = configuration
    }

    public func authenticate(_ message: ReceivedMessage) async -> AuthenticationOutcome {
        // "From :" (obsolete syntax, white space before the colon) is a From field too.
        let fromHeaders = message.headers.filter { $0.name.trimmingCharacters(in: .whitespaces).lowercased() == "from" }
        let parsed = fromHeaders.map { FromHeader.domains($0.value) }
        let fromDomains = Set(parsed.compactMap { $0 }.joined())
        async let helo: SPFResult? = message.clientAddress == nil || message.helo.isEmpty ? nil
            : spf.checkHelo(ip: message.clientAddress!, helo: message.helo)
        async let mailFrom: SPFResult? = message.clientAddress == nil ? nil
            : spf.checkMailFrom(ip: message.clientAddress!, mailFrom: message.mailFrom, helo: message.helo)
        async let signatures = dkim.verify(headers: message.headers, body: message.body)
        let (spfResult, heloResult, dkimResults) = await (mailFrom, helo, signatures)
        var parts = [configuration.authservID]
        if let spfResult {
            parts.append("spf=\(spfResult.kind.rawValue) smtp.mailfrom=\(Self.value(message.mailFrom.isEmpty ? "postmaster@" + message.helo : message.mailFrom))")
        }
        if let heloResult, message.mailFrom.isEmpty || spfResult == nil {
            parts.append("spf=\(heloResult.kind.rawValue) smtp.helo=\(Self.value(message.helo))")
        }
        if dkimResults.isEmpty { parts.append("dkim=none") }
        for result in dkimResults {
            parts.append("dkim=\(result.kind.rawValue)" + (result.kind == .pass ? "" : " (\(Self.comment(result.reason)))")
                         + (result.domain.isEmpty ? "" : " header.d=\(result.domain) header.s=\(result.selector) header.a=\(result.algorithm)"))
        }
        // RFC 7489 §6.6.1: one author domain; none, or several, cannot be evaluated and are refused.
        // A domain that is not a domain name (group syntax, an encoded word, invisible characters) is what a
        // mail program may show as another: refused like a missing one.
        let invalid = parsed.contains(where: { $0 == nil }) ? "" : fromDomains.first { (try? DomainName($0)) == nil }
        guard fromHeaders.count == 1, fromDomains.count == 1, invalid == nil, let fromDomain = fromDomains.first.flatMap({ try? DomainName($0) })?.ascii else {
            let reason = fromHeaders.isEmpty ? "the message has no From header field" : fromHeaders.count > 1 ? "the message has \(fromHeaders.count) From header fields"
                : fromDomains.isEmpty ? "the From header field has no address" : invalid != nil ? "the From header field has an address whose domain is not a domain name"
                : "the From header field has addresses in \(fromDomains.count) domains"
            parts.append("dmarc=permerror (\(reason))")
            return AuthenticationOutcome(clientAddress: message.clientAddress, spf: spfResult, helo: heloResult, dkim: dkimResults, dmarc: nil,
                                         action: configuration.enforce ? .reject("550 5.7.1 \(reason) (RFC 7489 section 6.6.1)") : .accept,
                                         authenticationResults: parts.joined(separator: ";\n\t"))
        }
        let spfForDMARC = spfResult.map { result in (kind: result.kind, domain: result.domain) }
        let verdict = await dmarc.evaluate(fromDomain: fromDomain, spf: spfForDMARC, dkim: dkimResults)
        let action: AuthenticationOutcome.Action
        switch verdict.result {
        case .temperror:
            action = .tempfail("451 4.7.5 cannot evaluate DMARC for \(fromDomain) now: \(Self.comment(verdict.reason))")
        case .fail where configuration.enforce && !allowListed(message, spf: spfResult):
            switch verdict.disposition {
            case .reject: action = .reject("550 5.7.1 the DMARC policy of \(verdict.policyDomain ?? fromDomain) rejects mail from \(fromDomain) that is not authenticated")
            case .quarantine: action = .quarantine("DMARC policy of \(verdict.policyDomain ?? fromDomain): quarantine")
            case .none: action = .accept
            }
        default:
            action = .accept
        }
        var dmarcPart = "dmarc=\(verdict.result.rawValue)"
        if let policy = verdict.policy {
            dmarcPart += " (p=\(policy.rawValue) dis=\(action.disposition.rawValue.uppercased()))"
        }
        parts.append(dmarcPart + " header.from=\(fromDomain)")
        // Folded with LF alone: the MTA writes line ends itself (libmilter's rule).
        let header = parts.joined(separator: ";\n\t")
        return AuthenticationOutcome(clientAddress: message.clientAddress, spf: spfResult, helo: heloResult, dkim: dkimResults, dmarc: verdict, action: action, authenticationResults: header)
    }

    func allowListed(_ message: ReceivedMessage, spf: SPFResult?) -> Bool {
        if let address = message.clientAddress,
           configuration.allowedNetworks.contains(where: { SPFVerifier.contains($0.network, prefix: $0.prefix, address.bytes) }) {
            return true
        }
        var names = [message.clientName.lowercased()]
        if let spf, spf.kind == .pass { names.append(spf.domain.lowercased()) }
        return names.contains { name in configuration.allowedDomains.contains { name == $0 || name.hasSuffix("." + $0) } }
    }

    /// A header field value as an RFC 8601 `value`: a token, or quoted.
    static func value(_ text: String) -> String {
        text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "@.-_+=".contains($0)) }) && !text.isEmpty ? text
            : "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Free text fit for a comment or an SMTP reply: printable ASCII, no parentheses, at most 200 characters.
    static func comment(_ text: String) -> String {
        String(text.unicodeScalars.map { ($0.isASCII && $0.value >= 0x20 && $0.value < 0x7F && $0 != "(" && $0 != ")") ? Character($0) : " " }.prefix(200))
    }
}

/// Why the authenticator's configuration is unusable.
public struct MailAuthenticatorConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The domains of the addresses in a From header field (RFC 5322 §3.4): angle addresses, or bare
/// addr-specs; display names, quoted strings and comments skipped.
enum FromHeader {
    /// nil when an angle address holds what no address may (white space, `;`, `,`, `<`): a field written to
    /// show one thing and be read as another.
    static func domains(_ value: String) -> [String]? {
        var addresses: [String] = []
        var malformed = false
        var current = ""
        var angle: String?
        var quoted = false, escaped = false
        var depth = 0
        func finish() {
            let address = (angle ?? current).trimmingCharacters(in: .whitespaces)
            if let at = address.lastIndex(of: "@") {
                let domain = address[address.index(after: at)...].trimmingCharacters(in: .whitespaces).lowercased()
                if !domain.isEmpty { addresses.append(domain.hasSuffix(".") ? String(domain.dropLast()) : domain) }
            }
            current = ""
            angle = nil
        }
        for character in value.unicodeScalars.map(Character.init) {
            if escaped { escaped = false; continue }
            if quoted {
                if character == "\\" { escaped = true } else if character == "\"" { quoted = false }
                continue
            }
            if depth > 0 {
                if character == "\\" { escaped = true } else if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
                continue
            }
            switch character {
            case "\"": quoted = true
            case "(": depth += 1
            case _ where angle != nil && " \t;,<".contains(character): malformed = true
            case "<": angle = ""
            case ">": if angle != nil { finish() }
            case ",", ";": finish()
            // A group's name (RFC 5322 §3.4): what came before the colon was a display name.
            case ":" where angle == nil: current = ""
            default:
                if angle != nil { angle!.append(character) } else if character != "\r" && character != "\n" { current.append(character) }
            }
        }
        finish()
        return malformed ? nil : addresses
    }
}
