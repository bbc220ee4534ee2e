import Core
import Foundation

/// One WKD request, read from its Host and path: which method of the draft, which domain, what is asked.
/// Everything that is not a well-formed WKD request of a served domain gets the same plain 404.
public enum WKDRequest: Equatable, Sendable {
    /// `hu/<hash>` of `domain`, by the advanced or the direct method.
    case key(domain: String, hash: String)
    /// The policy file of `domain`.
    case policy(domain: String)

    static let prefix: StaticString = "/.well-known/openpgpkey/"
    static let advancedHostPrefix = "openpgpkey."

    /// Whether `byte` is a letter of z-base-32 ("ybndrfg8ejkmcpqxot1uwisza345h769": a–z but l and v, 1 and 3–9).
    static func isZBase32(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "l"), UInt8(ascii: "v"): false
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "1"), UInt8(ascii: "3")...UInt8(ascii: "9"): true
        default: false
        }
    }

    /// Reads `path` (without the query: `?l=` is ignored, requests are matched by hash) asked of `host`
    /// (the Host header, any port removed, any case). The advanced method is
    /// `Host: openpgpkey.<domain>` with `/.well-known/openpgpkey/<domain>/hu/<hash>`; the direct method
    /// `Host: <domain>` with `/.well-known/openpgpkey/hu/<hash>`; the policy files sit beside `hu/`.
    public init?(host: String, path: String) {
        var host = host
        var path = path
        guard let request = host.withUTF8({ host in path.withUTF8 { path in
            WKDRequest(host: UnsafeRawBufferPointer(host), path: UnsafeRawBufferPointer(path))
        } }) else { return nil }
        self = request
    }

    /// The same, read from the request's bytes: a request by the plain forms clients send (lower-case
    /// ASCII names, the hash as it is) makes no string but the domain and the hash it looks up.
    init?(host: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer) {
        guard path.count >= Self.prefix.utf8CodeUnitCount, WKDRequestHead.equals(path, 0..<Self.prefix.utf8CodeUnitCount, Self.prefix),
              let host = Self.domain(Self.hostName(host)) else { return nil }
        // The segments after the prefix: at most three (kept in a fixed-size tuple, not an array).
        var segments = (0..<0, 0..<0, 0..<0)
        var count = 0
        var start = Self.prefix.utf8CodeUnitCount
        while true {
            let end = path[start...].firstIndex(of: UInt8(ascii: "/")) ?? path.count
            switch count {
            case 0: segments.0 = start..<end
            case 1: segments.1 = start..<end
            case 2: segments.2 = start..<end
            default: return nil
            }
            count += 1
            if end == path.count { break }
            start = end + 1
        }
        func segment(_ range: Range<Int>, is text: StaticString) -> Bool {
            WKDRequestHead.equalsIgnoringCase(path, range, text)
        }
        // The advanced method's path names the mail domain: a client may write it as a U-label,
        // percent-encoded, or with a trailing dot, so both sides are compared as A-labels.
        func advanced(_ segment: Range<Int>) -> String? {
            guard let domain = Self.domain(UnsafeRawBufferPointer(rebasing: path[segment]), percentEncoded: true),
                  host.utf8.count == Self.advancedHostPrefix.utf8.count + domain.utf8.count, host.hasPrefix(Self.advancedHostPrefix),
                  host.utf8.dropFirst(Self.advancedHostPrefix.utf8.count).elementsEqual(domain.utf8) else { return nil }
            return domain
        }
        func hash(_ segment: Range<Int>) -> String? {
            Self.hash(UnsafeRawBufferPointer(rebasing: path[segment]))
        }
        switch count {
        case 1 where segment(segments.0, is: "policy"):
            self = .policy(domain: host)
        case 2 where segment(segments.0, is: "hu"):
            guard let hash = hash(segments.1) else { return nil }
            self = .key(domain: host, hash: hash)
        case 2 where segment(segments.1, is: "policy"):
            guard let domain = advanced(segments.0) else { return nil }
            self = .policy(domain: domain)
        case 3 where segment(segments.1, is: "hu"):
            guard let domain = advanced(segments.0), let hash = hash(segments.2) else { return nil }
            self = .key(domain: domain, hash: hash)
        default:
            return nil
        }
    }

    /// A WKD hash: 32 characters of z-base-32, lower case (clients send it so; other case is lowered).
    static func hash(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count == 32, bytes.allSatisfy({ isZBase32(WKDRequestHead.lowercased($0)) }) else { return nil }
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = WKDRequestHead.lowercased(byte) }
            return 32
        }
    }

    /// A domain name as the tables hold it (A-label, lower case) read from bytes, nil if it is not one.
    /// Names in plain form (ASCII letters, digits, hyphens, single dots; no "xn--" label) are lowered
    /// byte by byte; anything else (U-labels, A-labels, percent-encoding where allowed) takes the full IDNA check.
    static func domain(_ bytes: UnsafeRawBufferPointer, percentEncoded: Bool = false) -> String? {
        let lowered = String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = WKDRequestHead.lowercased(byte) }
            return bytes.count
        }
        if isPlainALabelForm(lowered) { return lowered }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let decoded = percentEncoded ? text.removingPercentEncoding : text else { return nil }
        return domain(decoded)
    }

    /// A domain name as the tables hold it (A-label, lower case), nil if it is not one. Names already in
    /// that form (lower-case letters, digits, hyphens, single dots) skip the full IDNA check.
    static func domain(_ text: String) -> String? {
        if isPlainALabelForm(text) { return text }
        return (try? DomainName(text))?.ascii
    }

    static func isPlainALabelForm(_ text: String) -> Bool {
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): break
            case UInt8(ascii: ".") where previous != UInt8(ascii: "."): break
            default: return false
            }
            previous = byte
        }
        // A-labels ("xn--") take the full check: they must be valid Punycode.
        return !text.isEmpty && previous != UInt8(ascii: ".") && text.utf8.count <= 253 && text.utf8.first != UInt8(ascii: "-")
            && !Self.containsALabel(text)
    }

    /// Whether a label starts with "xn--".
    static func containsALabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 4 else { return false }
        for index in 0...(bytes.count - 4) where bytes[index] == UInt8(ascii: "x") && bytes[index + 1] == UInt8(ascii: "n")
            && bytes[index + 2] == UInt8(ascii: "-") && bytes[index + 3] == UInt8(ascii: "-") && (index == 0 || bytes[index - 1] == UInt8(ascii: ".")) {
            return true
        }
        return false
    }

    /// The host name of a Host header: without a port or a trailing dot (an IP literal is no domain: empty).
    static func hostName(_ header: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        if header.first == UInt8(ascii: "[") { return UnsafeRawBufferPointer(rebasing: header[0..<0]) }
        var end = header.lastIndex(of: UInt8(ascii: ":")) ?? header.count
        if end > 0, header[end - 1] == UInt8(ascii: ".") { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: header[0..<end])
    }
}
