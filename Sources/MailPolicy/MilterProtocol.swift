/// The Sendmail milter protocol, version 6 as Postfix speaks it (libmilter's mfdef.h): length-prefixed
/// packets of one command byte and its data. The MTA sends commands, the filter answers; this is the
/// framing and the vocabulary, with limits, and nothing about what a filter decides.
public enum MilterProtocol {
    public static let version: UInt32 = 6
    /// Largest packet accepted: a body chunk is at most 64 KiB (MILTER_CHUNK_SIZE), headers less.
    public static let maximumPacket = 1 << 20

    /// What the filter may do at end of message (SMFIF_*).
    public struct Actions: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let addHeaders = Actions(rawValue: 0x01)
        public static let changeHeaders = Actions(rawValue: 0x10)
        public static let quarantine = Actions(rawValue: 0x20)
    }

    /// What the MTA leaves out or how it sends it (SMFIP_*).
    public struct Steps: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let noRecipient = Steps(rawValue: 0x08)
        public static let noUnknown = Steps(rawValue: 0x100)
        public static let noData = Steps(rawValue: 0x200)
        /// Header values keep their leading space, so DKIM's simple canonicalization sees them as sent.
        public static let headerLeadingSpace = Steps(rawValue: 0x100000)
    }

    /// A command from the MTA.
    public enum Command: Sendable, Equatable {
        case optionNegotiation(version: UInt32, actions: UInt32, steps: UInt32)
        /// `address` nil for a unix-socket or unknown client.
        case connect(hostname: String, address: String?, port: UInt16)
        case helo(String)
        case mail(sender: String, arguments: [String])
        case recipient(String)
        case data
        case header(name: String, value: [UInt8])
        case endOfHeaders
        case body([UInt8])
        case endOfMessage
        case abort
        case quit
        case quitNewConnection
        case macros(stage: UInt8, values: [String: String])
        case unknown(String)
    }

    /// A reply of the filter.
    public enum Reply: Sendable, Equatable {
        case optionNegotiation(actions: Actions, steps: Steps)
        case `continue`
        case accept
        case tempfail
        /// `SMFIR_REPLYCODE`: e.g. "550 5.7.1 …" (the MTA rejects with it).
        case replyCode(String)
        case addHeader(name: String, value: String)
        /// Inserted at `index` (0: at the top, as Authentication-Results belongs).
        case insertHeader(index: UInt32, name: String, value: String)
        case quarantine(String)
        /// `SMFIR_CHGHEADER`: the `index`th (from 1) field named `name` gets `value`; an empty value deletes it.
        case changeHeader(index: UInt32, name: String, value: String)
    }

    public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The next packet of `buffer`: the command and how many bytes it took; nil when more bytes are needed.
    public static func parse(_ buffer: ArraySlice<UInt8>) throws(ProtocolError) -> (Command, Int)? {
        guard buffer.count >= 4 else { return nil }
        let start = buffer.startIndex
        let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard length >= 1 else { throw ProtocolError("an empty packet") }
        guard length <= maximumPacket else { throw ProtocolError("a packet of \(length) bytes, over \(maximumPacket)") }
        guard buffer.count >= 4 + length else { return nil }
        let code = buffer[start + 4]
        let data = buffer[(start + 5)..<(start + 4 + length)]
        return (try command(code, data), 4 + length)
    }

    private static func command(_ code: UInt8, _ data: ArraySlice<UInt8>) throws(ProtocolError) -> Command {
        switch code {
        case UInt8(ascii: "O"):
            guard data.count >= 12 else { throw ProtocolError("option negotiation of \(data.count) bytes") }
            return .optionNegotiation(version: uint32(data, 0), actions: uint32(data, 4), steps: uint32(data, 8))
        case UInt8(ascii: "C"):
            var fields = strings(data.prefix { $0 != 0 })
            let hostname = fields.first ?? ""
            let rest = data.drop { $0 != 0 }.dropFirst()
            guard let family = rest.first else { return .connect(hostname: hostname, address: nil, port: 0) }
            guard family == UInt8(ascii: "4") || family == UInt8(ascii: "6") else { return .connect(hostname: hostname, address: nil, port: 0) }
            guard rest.count >= 4 else { throw ProtocolError("a connect packet without a port") }
            let port = UInt16(rest[rest.startIndex + 1]) << 8 | UInt16(rest[rest.startIndex + 2])
            fields = strings(rest.dropFirst(3))
            return .connect(hostname: hostname, address: fields.first, port: port)
        case UInt8(ascii: "H"): return .helo(strings(data).first ?? "")
        case UInt8(ascii: "M"):
            let fields = strings(data)
            return .mail(sender: fields.first ?? "", arguments: Array(fields.dropFirst()))
        case UInt8(ascii: "R"): return .recipient(strings(data).first ?? "")
        case UInt8(ascii: "T"): return .data
        case UInt8(ascii: "L"):
            // The value stays bytes: DKIM hashes them as sent, 8-bit or not.
            let nul = data.firstIndex(of: 0) ?? data.endIndex
            guard nul > data.startIndex else { throw ProtocolError("a header packet without a name") }
            var value = data[min(nul + 1, data.endIndex)...]
            if value.last == 0 { value = value.dropLast() }
            return .header(name: String(decoding: data[..<nul], as: UTF8.self), value: Array(value))
        case UInt8(ascii: "N"): return .endOfHeaders
        case UInt8(ascii: "B"): return .body(Array(data))
        case UInt8(ascii: "E"): return .endOfMessage
        case UInt8(ascii: "A"): return .abort
        case UInt8(ascii: "Q"): return .quit
        case UInt8(ascii: "K"): return .quitNewConnection
        case UInt8(ascii: "D"):
            guard let stage = data.first else { throw ProtocolError("a macro packet without a stage") }
            let fields = strings(data.dropFirst())
            var values: [String: String] = [:]
            var index = 0
            while index + 1 < fields.count { values[fields[index]] = fields[index + 1]; index += 2 }
            return .macros(stage: stage, values: values)
        case UInt8(ascii: "U"): return .unknown(strings(data).first ?? "")
        default: throw ProtocolError("unknown command 0x\(String(code, radix: 16))")
        }
    }

    /// A reply as bytes on the wire.
    public static func encode(_ reply: Reply) -> [UInt8] {
        var packet: [UInt8]
        switch reply {
        case let .optionNegotiation(actions, steps):
            packet = [UInt8(ascii: "O")] + bytes(version) + bytes(actions.rawValue) + bytes(steps.rawValue)
        case .continue: packet = [UInt8(ascii: "c")]
        case .accept: packet = [UInt8(ascii: "a")]
        case .tempfail: packet = [UInt8(ascii: "t")]
        case .replyCode(let text): packet = [UInt8(ascii: "y")] + terminated(text)
        case let .addHeader(name, value): packet = [UInt8(ascii: "h")] + terminated(name) + terminated(value)
        case let .insertHeader(index, name, value): packet = [UInt8(ascii: "i")] + bytes(index) + terminated(name) + terminated(value)
        case .quarantine(let reason): packet = [UInt8(ascii: "q")] + terminated(reason)
        case let .changeHeader(index, name, value): packet = [UInt8(ascii: "m")] + bytes(index) + terminated(name) + terminated(value)
        }
        return bytes(UInt32(packet.count)) + packet
    }

    static func uint32(_ data: ArraySlice<UInt8>, _ offset: Int) -> UInt32 {
        let i = data.startIndex + offset
        return UInt32(data[i]) << 24 | UInt32(data[i + 1]) << 16 | UInt32(data[i + 2]) << 8 | UInt32(data[i + 3])
    }

    static func bytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// NUL-terminated strings (a last one without NUL counts too); bytes that are not UTF-8 are replaced.
    static func strings(_ data: ArraySlice<UInt8>) -> [String] {
        var fields = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if data.last == 0 { fields.removeLast() }
        return fields
    }

    /// NUL-terminated, with any NUL inside removed (it would end the string early).
    static func terminated(_ text: String) -> [UInt8] {
        Array(text.utf8.filter { $0 != 0 }) + [0]
    }
}
