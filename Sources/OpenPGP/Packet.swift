/// OpenPGP packet tags (RFC 9580 §5) that a certificate may contain, or that must be recognised to be
/// refused or skipped.
public enum PacketTag: UInt8, Sendable, CustomStringConvertible {
    case signature = 2
    case secretKey = 5
    case publicKey = 6
    case secretSubkey = 7
    case compressedData = 8
    case marker = 10
    case literalData = 11
    case trust = 12
    case userID = 13
    case publicSubkey = 14
    case userAttribute = 17
    case padding = 21

    public var description: String {
        switch self {
        case .signature: "signature"
        case .secretKey: "secret key"
        case .publicKey: "public key"
        case .secretSubkey: "secret subkey"
        case .compressedData: "compressed data"
        case .marker: "marker"
        case .literalData: "literal data"
        case .trust: "trust"
        case .userID: "User ID"
        case .publicSubkey: "public subkey"
        case .userAttribute: "User Attribute"
        case .padding: "padding"
        }
    }
}

/// One packet as framed in the input: its tag, the body's bytes, and where it started.
public struct RawPacket: Sendable, Equatable {
    /// The tag number (0–63); `PacketTag(rawValue:)` names the ones Palisade knows.
    public let tagNumber: UInt8
    public let body: [UInt8]
    /// Offset of the packet's first header byte in the binary input.
    public let offset: Int

    public var tag: PacketTag? { PacketTag(rawValue: tagNumber) }

    /// The packet re-framed in the new format (RFC 9580 §4.2.1), as Palisade writes packets.
    public var serialized: [UInt8] {
        var bytes: [UInt8] = [0xC0 | tagNumber]
        let length = body.count
        if length < 192 {
            bytes.append(UInt8(length))
        } else if length < 8384 {
            let value = length - 192
            bytes += [UInt8(value >> 8 + 192), UInt8(value & 0xFF)]
        } else {
            bytes += [0xFF, UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        }
        return bytes + body
    }
}

/// Splits binary OpenPGP data into packets (RFC 9580 §4.2), both framings.
///
/// Partial body lengths are allowed only where §4.2.1.4 allows them (literal, compressed and encrypted
/// data), never in key material or signatures; an indeterminate legacy length runs to the end of input.
public enum PacketReader {
    public static func packets(_ data: [UInt8], limits: OpenPGPLimits = .default) throws(OpenPGPError) -> [RawPacket] {
        guard data.count <= limits.maximumInputSize else {
            throw OpenPGPError(.tooLarge, "input is larger than \(limits.maximumInputSize) bytes")
        }
        var packets: [RawPacket] = []
        var offset = 0
        while offset < data.count {
            guard packets.count < limits.maximumPackets else {
                throw OpenPGPError(.tooLarge, "more than \(limits.maximumPackets) packets", at: offset)
            }
            let start = offset
            let header = data[offset]
            guard header & 0x80 != 0 else {
                throw OpenPGPError(.malformed, "not an OpenPGP packet header (0x\(String(header, radix: 16)))", at: offset)
            }
            offset += 1
            let tag: UInt8
            var body: [UInt8]
            if header & 0x40 != 0 {
                tag = header & 0x3F
                body = []
                var partial = true
                var first = true
                while partial {
                    let (length, isPartial, next) = try newLength(data, at: offset, packetStart: start)
                    if isPartial {
                        guard [8, 9, 11, 18, 20].contains(tag) else {
                            throw OpenPGPError(.malformed, "partial body length in a \(PacketTag(rawValue: tag).map { "\($0)" } ?? "tag \(tag)") packet", at: start)
                        }
                        guard !first || length >= 512 else {
                            throw OpenPGPError(.malformed, "first partial body is shorter than 512 bytes", at: start)
                        }
                    }
                    guard next + length <= data.count else {
                        throw OpenPGPError(.malformed, "packet body runs past the end of the input", at: start)
                    }
                    body.append(contentsOf: data[next..<next + length])
                    offset = next + length
                    partial = isPartial
                    first = false
                }
            } else {
                tag = header >> 2 & 0x0F
                let length: Int
                switch header & 0x03 {
                case 0:
                    guard offset + 1 <= data.count else { throw OpenPGPError(.malformed, "packet header runs past the end of the input", at: start) }
                    length = Int(data[offset])
                    offset += 1
                case 1:
                    guard offset + 2 <= data.count else { throw OpenPGPError(.malformed, "packet header runs past the end of the input", at: start) }
                    length = Int(data[offset]) << 8 | Int(data[offset + 1])
                    offset += 2
                case 2:
                    guard offset + 4 <= data.count else { throw OpenPGPError(.malformed, "packet header runs past the end of the input", at: start) }
                    length = Int(data[offset]) << 24 | Int(data[offset + 1]) << 16 | Int(data[offset + 2]) << 8 | Int(data[offset + 3])
                    offset += 4
                default:
                    length = data.count - offset
                }
                guard offset + length <= data.count else {
                    throw OpenPGPError(.malformed, "packet body runs past the end of the input", at: start)
                }
                body = Array(data[offset..<offset + length])
                offset += length
            }
            guard tag != 0 else { throw OpenPGPError(.malformed, "packet tag 0 is reserved", at: start) }
            packets.append(RawPacket(tagNumber: tag, body: body, offset: start))
        }
        return packets
    }

    /// A new-format length at `offset`: (length, partial?, offset after the length octets).
    private static func newLength(_ data: [UInt8], at offset: Int, packetStart: Int) throws(OpenPGPError) -> (Int, Bool, Int) {
        guard offset < data.count else { throw OpenPGPError(.malformed, "packet header runs past the end of the input", at: packetStart) }
        let first = Int(data[offset])
        switch first {
        case 0..<192:
            return (first, false, offset + 1)
        case 192..<224:
            guard offset + 2 <= data.count else { throw OpenPGPError(.malformed, "packet header runs past the end of the input", at: packetStart) }
            return ((first - 192) << 8 + Int(data[offset + 1]) + 192, false, offset + 2)
        case 255:
            guard offset + 5 <= data.count else { throw OpenPGPError(.malformed, "packet header runs past the end of the input", at: packetStart) }
            let length = Int(data[offset + 1]) << 24 | Int(data[offset + 2]) << 16 | Int(data[offset + 3]) << 8 | Int(data[offset + 4])
            return (length, false, offset + 5)
        default:
            return (1 << (first & 0x1F), true, offset + 1)
        }
    }
}

/// Reads big-endian fields from a packet body, failing with the packet's offset.
struct ByteReader {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    /// Offset of the packet in the input, for errors.
    let packetOffset: Int
    let what: String

    init(_ bytes: [UInt8], packetOffset: Int, what: String, range: Range<Int>? = nil) {
        self.bytes = bytes
        position = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
        self.packetOffset = packetOffset
        self.what = what
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }

    func error(_ message: String) -> OpenPGPError {
        OpenPGPError(.malformed, "\(what): \(message)", at: packetOffset)
    }

    mutating func byte() throws(OpenPGPError) -> UInt8 {
        guard position < end else { throw error("ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func take(_ count: Int) throws(OpenPGPError) -> [UInt8] {
        guard count >= 0, position + count <= end else { throw error("a field runs past the end") }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func uint16() throws(OpenPGPError) -> Int {
        let b = try take(2)
        return Int(b[0]) << 8 | Int(b[1])
    }

    mutating func uint32() throws(OpenPGPError) -> UInt32 {
        let b = try take(4)
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }

    /// A multiprecision integer (RFC 9580 §3.2): bit count, then the big-endian bytes.
    mutating func mpi() throws(OpenPGPError) -> [UInt8] {
        let bits = try uint16()
        return try take((bits + 7) / 8)
    }

    mutating func rest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }
}
