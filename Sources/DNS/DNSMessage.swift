/// A DNS response message as the resolver returned it, parsed just far enough to read its answer
/// section: the records, their owners, types and TTLs, with compressed names followed.
///
/// The bytes come from a network peer (through unbound), so every read is bounds-checked, compression
/// pointers may only point backwards and are followed at most 128 times per name, and a message is at
/// most 65,535 octets.
public struct DNSMessage: Sendable {
    /// Why a message could not be read.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
        public var description: String { "malformed DNS message: \(reason)" }
    }

    /// One resource record of the answer section; `rdata` indexes into the message's bytes.
    public struct ResourceRecord: Sendable {
        public let owner: DNSName
        public let type: UInt16
        public let ttl: UInt32
        public let rdata: ArraySlice<UInt8>
    }

    public static let maximumSize = 65_535

    public let bytes: [UInt8]
    public let rcode: UInt8
    public let answers: [ResourceRecord]

    public init(bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumSize else { throw ParseError("longer than 65,535 octets") }
        guard bytes.count >= 12 else { throw ParseError("shorter than its 12-octet header") }
        self.bytes = bytes
        rcode = bytes[3] & 0x0F
        let questions = Int(bytes[4]) << 8 | Int(bytes[5])
        let answerCount = Int(bytes[6]) << 8 | Int(bytes[7])
        var offset = 12
        for _ in 0..<questions {
            offset = try Self.skipName(bytes, at: offset) + 4
            guard offset <= bytes.count else { throw ParseError("question runs past the message") }
        }
        var answers: [ResourceRecord] = []
        // Each record takes at least 11 octets, which bounds the loop by the message's size too.
        answers.reserveCapacity(min(answerCount, bytes.count / 11))
        for _ in 0..<answerCount {
            let (owner, end) = try Self.readName(bytes, at: offset)
            guard end + 10 <= bytes.count else { throw ParseError("record header runs past the message") }
            let type = UInt16(bytes[end]) << 8 | UInt16(bytes[end + 1])
            let ttl = UInt32(bytes[end + 4]) << 24 | UInt32(bytes[end + 5]) << 16 | UInt32(bytes[end + 6]) << 8 | UInt32(bytes[end + 7])
            let length = Int(bytes[end + 8]) << 8 | Int(bytes[end + 9])
            let start = end + 10
            guard start + length <= bytes.count else { throw ParseError("record data runs past the message") }
            // RFC 2181 §8: a TTL with the top bit set is read as zero.
            answers.append(ResourceRecord(owner: owner, type: type, ttl: ttl > 0x7FFF_FFFF ? 0 : ttl, rdata: bytes[start..<start + length]))
            offset = start + length
        }
        self.answers = answers
    }

    /// Reads a possibly compressed name at `offset`; returns it and the offset just after it.
    public func name(at offset: Int) throws -> (DNSName, Int) {
        try Self.readName(bytes, at: offset)
    }

    static func readName(_ bytes: [UInt8], at start: Int) throws -> (DNSName, Int) {
        var labels: [[UInt8]] = []
        var offset = start
        var end: Int?
        var jumps = 0
        var wireLength = 1
        while true {
            guard offset < bytes.count else { throw ParseError("name runs past the message") }
            let length = Int(bytes[offset])
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    return (try DNSName(labels: labels), end ?? offset + 1)
                }
                guard offset + 1 + length <= bytes.count else { throw ParseError("label runs past the message") }
                wireLength += length + 1
                guard wireLength <= DNSName.maximumWireLength else { throw ParseError("name longer than 255 octets") }
                labels.append(Array(bytes[(offset + 1)...(offset + length)]))
                offset += 1 + length
            case 0xC0:
                guard offset + 1 < bytes.count else { throw ParseError("compression pointer runs past the message") }
                let target = (length & 0x3F) << 8 | Int(bytes[offset + 1])
                guard target < offset else { throw ParseError("compression pointer does not point backwards") }
                jumps += 1
                guard jumps <= 128 else { throw ParseError("too many compression pointers") }
                if end == nil { end = offset + 2 }
                offset = target
            default:
                throw ParseError("unknown label type")
            }
        }
    }

    static func skipName(_ bytes: [UInt8], at offset: Int) throws -> Int {
        try readName(bytes, at: offset).1
    }
}
