import Core
import Foundation
import NIOCore
import OpenPGP

/// What the WKD serves for one address: the certificate minimised to the address's User ID, under the
/// draft's hash of the local part (and, for a non-ASCII local part, the hash clients compute when they
/// lower-case every letter), with a strong ETag. A class: every request hands one around, and a reference
/// is one retain where a struct of these fields is a dozen.
public final class WKDEntry: Sendable, Equatable {
    /// `EmailAddress.canonical`.
    public let address: String
    /// A-label, lower case.
    public let domain: String
    public let hash: String
    public let unicodeHash: String?
    public let fingerprint: String
    public let body: [UInt8]
    /// Quoted, as sent in `ETag`.
    public let etag: String
    /// The response parts, built once: serving copies nothing but references. `responseHead` is the
    /// status line and the header fields of a 200, up to (not including) `Date` and the blank line.
    let bodyBuffer: ByteBuffer
    let responseHead: ByteBuffer

    public init(address: String, domain: String, hash: String, unicodeHash: String?, fingerprint: String, body: [UInt8], etag: String) {
        self.address = address
        self.domain = domain
        self.hash = hash
        self.unicodeHash = unicodeHash
        self.fingerprint = fingerprint
        self.body = body
        self.etag = etag
        bodyBuffer = ByteBuffer(bytes: body)
        responseHead = ByteBuffer(string: "HTTP/1.1 200 OK\r\n" + Self.fields(etag: etag) + "Content-Length: \(body.count)\r\n")
    }

    /// The header fields a 200 and a 304 share (RFC 9110 §15.4.5: a 304 carries the ETag and Cache-Control).
    static func fields(etag: String) -> String {
        "Content-Type: application/octet-stream\r\nAccess-Control-Allow-Origin: *\r\nETag: \(etag)\r\nCache-Control: public, max-age=300\r\n"
    }

    public static func == (lhs: WKDEntry, rhs: WKDEntry) -> Bool {
        lhs.address == rhs.address && lhs.domain == rhs.domain && lhs.hash == rhs.hash && lhs.unicodeHash == rhs.unicodeHash
            && lhs.fingerprint == rhs.fingerprint && lhs.body == rhs.body && lhs.etag == rhs.etag
    }

    /// The entry for `address` (as written) serving `body`.
    public convenience init(address: EmailAddress, fingerprint: Fingerprint, body: [UInt8]) {
        let hash = WKDHash.hash(localPart: address.localPart)
        let unicode = WKDHash.hashLowercasingAll(localPart: address.localPart)
        self.init(address: address.canonical, domain: address.domain.ascii, hash: hash, unicodeHash: unicode == hash ? nil : unicode,
                  fingerprint: fingerprint.hex, body: body, etag: Self.etag(body))
    }

    /// A strong validator: the first 128 bits of the body's SHA-256, hex, quoted.
    public static func etag(_ body: [UInt8]) -> String {
        "\"" + Hex.string(MessageDigest.sha256(body).prefix(16)) + "\""
    }

    /// The hashes the entry is served under.
    public var hashes: [String] { [hash] + (unicodeHash.map { [$0] } ?? []) }
}
