/// An OpenPGP key fingerprint: 20 bytes (v4, SHA-1) or 32 bytes (v6, SHA-256).
///
/// Written as upper-case hex without spaces, the form keys.openpgp.org, gpg `--with-colons` and WKD
/// tooling exchange; input may carry spaces, a `0x` prefix and lower case.
public struct Fingerprint: Hashable, Sendable, Codable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Why a string or byte string is not a fingerprint.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "invalid fingerprint: \(reason)" }
    }

    /// The key version the length implies.
    public var version: Int { bytes.count == 32 ? 6 : 4 }

    public init(bytes: [UInt8]) throws {
        guard bytes.count == 20 || bytes.count == 32 else {
            throw ParseError(reason: "it has \(bytes.count) bytes; v4 fingerprints have 20 and v6 fingerprints 32")
        }
        self.bytes = bytes
    }

    public init(_ text: String) throws {
        var hex = text.filter { $0 != " " }
        if hex.hasPrefix("0x") || hex.hasPrefix("0X") { hex.removeFirst(2) }
        guard hex.count == 40 || hex.count == 64 else {
            throw ParseError(reason: "it has \(hex.count) hex digits; v4 fingerprints have 40 and v6 fingerprints 64")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = Hex.value(of: high), let l = Hex.value(of: low) else {
                throw ParseError(reason: "it contains a character that is not a hex digit")
            }
            bytes.append(h << 4 | l)
        }
        try self.init(bytes: bytes)
    }

    /// Upper-case hex, e.g. `EB85BB5FA33A75E15E944E63F231550C4F47E38E`.
    public var hex: String {
        Hex.string(bytes, uppercase: true)
    }

    /// The key ID: the low 64 bits for v4, the high 64 bits for v6 (RFC 9580 5.5.4).
    public var keyID: String {
        let hex = self.hex
        return version == 6 ? String(hex.prefix(16)) : String(hex.suffix(16))
    }

    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        try self.init(decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
