import Core
import Foundation

/// One header field as received: its name and everything after the colon, folding included, so DKIM's
/// "simple" canonicalization can reproduce it byte for byte.
public struct MailHeaderField: Sendable, Equatable {
    public let name: String
    /// The value's bytes exactly as received (after the colon, folding CRLFs included): what DKIM hashes,
    /// whatever their encoding.
    public let bytes: [UInt8]
    /// The value as text, for parsing; bytes that are not UTF-8 read as U+FFFD.
    public let value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
        self.bytes = Array(value.utf8)
    }

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
        self.value = String(decoding: bytes, as: UTF8.self)
    }
}

/// A `DKIM-Signature` header field (RFC 6376 §3.5): which domain signed which header fields and how
/// much of the body, with which algorithm and key, and the signature itself.
public struct DKIMSignature: Sendable, Equatable {
    public enum Algorithm: String, Sendable { case rsaSHA256 = "rsa-sha256", ed25519SHA256 = "ed25519-sha256", rsaSHA1 = "rsa-sha1" }
    public enum Canonicalization: String, Sendable { case simple, relaxed }

    public let algorithm: Algorithm
    public let signature: [UInt8]
    public let bodyHash: [UInt8]
    public let headerCanonicalization: Canonicalization
    public let bodyCanonicalization: Canonicalization
    /// `d=`, lower-cased.
    public let domain: String
    /// `h=`, lower-cased, in order (repeats allowed: over-signing).
    public let signedHeaders: [String]
    /// `i=`: the agent or user identity, default `@d`.
    public let identity: String
    /// `l=`: how many octets of the canonicalized body are signed; nil: all.
    public let bodyLength: Int?
    public let selector: String
    public let timestamp: Int?
    public let expiration: Int?

    /// Longest header field read as a signature.
    public static let maximumLength = 8_192

    /// Parses the field's value (after the colon); an error is a permerror naming the tag (§6.1.1).
    public static func parse(_ value: String) throws(DKIMError) -> DKIMSignature {
        guard value.utf8.count <= maximumLength else { throw DKIMError("the signature is longer than \(maximumLength) bytes") }
        let tags = try DKIMTagList.parse(value)
        func required(_ name: String) throws(DKIMError) -> String {
            guard let value = tags[name] else { throw DKIMError("the signature has no \(name)= tag") }
            return value
        }
        guard try required("v") == "1" else { throw DKIMError("v=\(tags["v"]!.prefix(20)) is not 1") }
        guard let algorithm = Algorithm(rawValue: try required("a").lowercased()) else { throw DKIMError("a=\(tags["a"]!.prefix(40)) is not a known algorithm") }
        let signature = try DKIMTagList.base64(try required("b"), tag: "b")
        let bodyHash = try DKIMTagList.base64(try required("bh"), tag: "bh")
        var header = Canonicalization.simple, body = Canonicalization.simple
        if let c = tags["c"] {
            let parts = c.lowercased().split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let first = Canonicalization(rawValue: String(parts[0])),
                  let second = parts.count == 2 ? Canonicalization(rawValue: String(parts[1])) : .simple else {
                throw DKIMError("c=\(c.prefix(40)) is not simple or relaxed")
            }
            header = first
            body = second
        }
        let domain = try required("d").lowercased()
        guard DNSLabelCheck.isDomain(domain) else { throw DKIMError("d=\(domain.prefix(60)) is not a domain name") }
        let selector = try required("s").lowercased()
        guard DNSLabelCheck.isDomain(selector, minimumLabels: 1) else { throw DKIMError("s=\(selector.prefix(60)) is not a selector") }
        let signed = try required("h").split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingWhitespace().lowercased() }
        guard !signed.contains(""), signed.contains("from") else { throw DKIMError("h= must name the From header field") }
        let identity = tags["i"] ?? "@" + domain
        guard let at = identity.lastIndex(of: "@") else { throw DKIMError("i=\(identity.prefix(60)) has no @") }
        let identityDomain = identity[identity.index(after: at)...].lowercased()
        guard identityDomain == domain || identityDomain.hasSuffix("." + domain) else { throw DKIMError("i= is not in d=\(domain) or below it") }
        func number(_ tag: String) throws(DKIMError) -> Int? {
            guard let text = tags[tag] else { return nil }
            guard (1...76).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw DKIMError("\(tag)=\(text.prefix(20)) is not a number") }
            return Int(text) ?? Int.max
        }
        let timestamp = try number("t"), expiration = try number("x")
        if let timestamp, let expiration, expiration < timestamp { throw DKIMError("x= is before t=") }
        if let query = tags["q"], !query.lowercased().split(separator: ":").contains("dns/txt") { throw DKIMError("q=\(query.prefix(40)) does not offer dns/txt") }
        return DKIMSignature(algorithm: algorithm, signature: signature, bodyHash: bodyHash, headerCanonicalization: header, bodyCanonicalization: body,
                             domain: domain, signedHeaders: signed, identity: identity, bodyLength: try number("l"), selector: selector,
                             timestamp: timestamp, expiration: expiration)
    }
}

/// A DKIM key record at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.1).
public struct DKIMKeyRecord: Sendable, Equatable {
    public enum KeyType: String, Sendable { case rsa, ed25519 }
    public let keyType: KeyType
    /// `p=`: SubjectPublicKeyInfo DER (RSA) or the 32-byte key (Ed25519); empty: revoked.
    public let publicKey: [UInt8]
    /// `t=y`: the domain is testing DKIM.
    public let testing: Bool
    /// `t=s`: `i=` must be exactly `d=`, not a subdomain.
    public let strict: Bool
    /// `h=`: hash algorithms allowed; nil: any.
    public let hashes: [String]?

    public static func parse(_ text: String) throws(DKIMError) -> DKIMKeyRecord {
        guard text.utf8.count <= 8_192 else { throw DKIMError("the key record is longer than 8192 bytes") }
        let tags = try DKIMTagList.parse(text)
        if let version = tags["v"] {
            guard version == "DKIM1", tags.first == "v" else { throw DKIMError("the key record's v= is not DKIM1 first") }
        }
        guard let keyType = KeyType(rawValue: (tags["k"] ?? "rsa").lowercased()) else { throw DKIMError("k=\(tags["k"]!.prefix(20)) is not rsa or ed25519") }
        guard let p = tags["p"] else { throw DKIMError("the key record has no p= tag") }
        let key = p.isEmpty ? [] : try DKIMTagList.base64(p, tag: "p")
        if let services = tags["s"], !services.split(separator: ":").map({ $0.trimmingWhitespace() }).contains(where: { $0 == "*" || $0 == "email" }) {
            throw DKIMError("the key is not for email (s=\(services.prefix(20)))")
        }
        let flags = (tags["t"] ?? "").split(separator: ":").map { $0.trimmingWhitespace() }
        return DKIMKeyRecord(keyType: keyType, publicKey: key, testing: flags.contains("y"), strict: flags.contains("s"),
                             hashes: tags["h"].map { $0.split(separator: ":").map { $0.trimmingWhitespace().lowercased() } })
    }
}

/// RFC 6376 §3.2 tag lists: `name=value` separated by `;`, white space (and folding) around both allowed.
enum DKIMTagList {
    struct Tags {
        var values: [String: String] = [:]
        var first: String?
        subscript(_ name: String) -> String? { values[name] }
    }

    static func parse(_ text: String) throws(DKIMError) -> Tags {
        var tags = Tags()
        // Line breaks occur only in folding white space (§2.8), which is white space.
        let unfolded = text.replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: "\r", with: "")
        for segment in unfolded.split(separator: ";", omittingEmptySubsequences: false) {
            let trimmed = segment.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { throw DKIMError("\"\(trimmed.prefix(40))\" is not tag=value") }
            let name = trimmed[..<equals].trimmingWhitespace()
            guard let first = name.first, first.isASCII, first.isLetter,
                  name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw DKIMError("\"\(name.prefix(40))\" is not a tag name")
            }
            // Folding inside a value: CRLF followed by white space is white space.
            let value = trimmed[trimmed.index(after: equals)...].trimmingWhitespace()
            guard tags.values.updateValue(value, forKey: name) == nil else { throw DKIMError("tag \(name) appears more than once") }
            if tags.first == nil { tags.first = name }
        }
        return tags
    }

    /// Base64 with any white space inside (§2.8, §3.5 b=).
    static func base64(_ text: String, tag: String) throws(DKIMError) -> [UInt8] {
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) ?? Data(base64Encoded: compact + String(repeating: "=", count: (4 - compact.count % 4) % 4)) else {
            throw DKIMError("\(tag)= is not base64")
        }
        return Array(data)
    }
}

/// Whether text is a domain name made of LDH-ish labels (underscores allowed, as in selectors).
enum DNSLabelCheck {
    static func isDomain(_ text: String, minimumLabels: Int = 2) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= minimumLabels && text.utf8.count <= 253
            && labels.allSatisfy { (1...63).contains($0.utf8.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") } }
    }
}

/// Why a DKIM signature or key cannot be used; the message names the tag.
public struct DKIMError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
