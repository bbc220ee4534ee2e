import Core
import Foundation
import OpenPGP

/// Who answered a look-up: our own tables (an address on a domain we serve), a Web Key Directory, or
/// the validating key server.
public enum DiscoverySource: String, Codable, Sendable {
    case local, wkd, vks
}

/// What one source said, kept with the answer so that a failure is never mistaken for "no key".
public struct SourceAttempt: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable {
        case found
        /// The source answered and has no usable key for the address.
        case notFound = "not_found"
        /// The source could not be asked or gave no usable answer (DNS, TLS, timeout, 5xx, 429, junk).
        case failed
    }

    public var source: DiscoverySource
    /// `advanced` or `direct` for WKD, `by-email` for the VKS.
    public var method: String?
    public var url: String?
    public var result: Result
    /// Why, for people: the HTTP status, the error, the keys served that did not count.
    public var detail: String?
    /// When the source asked us to come back (429 or 503 with Retry-After).
    public var retryAfter: Date?

    /// Bytes of UTF-8 (a cut through a character leaves a replacement character).
    static let maxDetail = 600

    public init(source: DiscoverySource, method: String? = nil, url: String? = nil, result: Result, detail: String? = nil, retryAfter: Date? = nil) {
        self.source = source
        self.method = method
        self.url = url
        self.result = result
        // Details quote what a server sent: bounded, like everything from outside.
        self.detail = detail.map { $0.utf8.count > Self.maxDetail ? String(decoding: Array($0.utf8.prefix(Self.maxDetail)), as: UTF8.self) + "…" : $0 }
        self.retryAfter = retryAfter
    }
}

/// The answer to "which key do I encrypt to for this address?": the outcome, the keys (only the asked
/// User ID in each), which source answered, when, and what every source asked said.
public struct LookupAnswer: Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case found
        /// Every source asked answered, and none has a usable key.
        case notFound = "not_found"
        /// No key was found and at least one source failed: there may be a key we could not see.
        case failed
    }

    /// The address asked, canonical.
    public var email: String
    public var outcome: Outcome
    /// The source of the keys; nil unless found.
    public var source: DiscoverySource?
    public var keys: [DiscoveredKey]
    public var attempts: [SourceAttempt]
    /// When the sources were asked (for a cached answer, the first time).
    public var lookedUpAt: Date
    /// Until when this answer is served from the cache; nil for answers from our own tables.
    public var expiresAt: Date?
    /// Whether it came from the cache rather than from asking the sources now.
    public var cached: Bool

    public init(email: String, outcome: Outcome, source: DiscoverySource?, keys: [DiscoveredKey], attempts: [SourceAttempt],
                lookedUpAt: Date, expiresAt: Date?, cached: Bool) {
        self.email = email
        self.outcome = outcome
        self.source = source
        self.keys = keys
        self.attempts = attempts
        self.lookedUpAt = lookedUpAt
        self.expiresAt = expiresAt
        self.cached = cached
    }

    /// The latest Retry-After any source gave.
    public var retryAfter: Date? { attempts.compactMap(\.retryAfter).max() }
}

extension LookupAnswer: Encodable {
    enum CodingKeys: String, CodingKey { case email, outcome, source, keys, attempts, lookedUpAt, expiresAt, cached }
    struct EncodedKey: Encodable { let fingerprint: String; let expiresAt: Date?; let certificate: String }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(email, forKey: .email)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(source, forKey: .source)
        try container.encode(keys.map {
            EncodedKey(fingerprint: $0.fingerprint.hex, expiresAt: $0.expiresAt, certificate: Armor.encode($0.certificate, as: .publicKey))
        }, forKey: .keys)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(lookedUpAt, forKey: .lookedUpAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(cached, forKey: .cached)
    }
}
