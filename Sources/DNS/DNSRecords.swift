/// The record types Palisade asks for; each has a typed record decoded from its RDATA.
public enum DNSRecordType: UInt16, Sendable, CustomStringConvertible, CaseIterable {
    case a = 1
    case cname = 5
    case ptr = 12
    case mx = 15
    case txt = 16
    case aaaa = 28
    case tlsa = 52
    case caa = 257

    public var description: String {
        switch self {
        case .a: "A"
        case .cname: "CNAME"
        case .ptr: "PTR"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .tlsa: "TLSA"
        case .caa: "CAA"
        }
    }
}

/// A record type the resolver can return, decoded from wire RDATA (names already decompressed).
public protocol DNSRecord: Sendable, Equatable {
    static var type: DNSRecordType { get }
    /// Decodes RDATA; `message` and `offset` locate it in the whole message, for compressed names.
    init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws
}

/// A TXT record: its character-strings in order, and their concatenation.
///
/// RFC 7208 §3.3 and RFC 8461 §3.1 read a TXT record made of several strings as the strings joined
/// with nothing between them; `text` is that. Bytes that are not UTF-8 are replaced (U+FFFD), which no
/// protocol here accepts, so such a record fails its parser rather than being guessed at.
public struct TXTRecord: DNSRecord {
    public static let type = DNSRecordType.txt
    public let strings: [[UInt8]]
    public var text: String { String(decoding: strings.joined(), as: UTF8.self) }

    public init(strings: [[UInt8]]) { self.strings = strings }

    public init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws {
        var strings: [[UInt8]] = []
        var index = rdata.startIndex
        while index < rdata.endIndex {
            let length = Int(rdata[index])
            index += 1
            guard index + length <= rdata.endIndex else { throw DNSMessage.ParseError("TXT string runs past its record") }
            strings.append(Array(rdata[index..<index + length]))
            index += length
        }
        self.strings = strings
    }
}

/// An MX record. A null MX (RFC 7505: preference 0, exchange `.`) says the domain accepts no mail.
public struct MXRecord: DNSRecord {
    public static let type = DNSRecordType.mx
    public let preference: UInt16
    public let exchange: DNSName
    public var isNullMX: Bool { exchange.isRoot }

    public init(preference: UInt16, exchange: DNSName) {
        self.preference = preference
        self.exchange = exchange
    }

    public init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws {
        guard rdata.count >= 3 else { throw DNSMessage.ParseError("MX record shorter than 3 octets") }
        preference = UInt16(rdata[rdata.startIndex]) << 8 | UInt16(rdata[rdata.startIndex + 1])
        let (name, end) = try message.name(at: rdata.startIndex + 2)
        guard end == rdata.endIndex else { throw DNSMessage.ParseError("MX record has trailing octets") }
        exchange = name
    }
}

/// A TLSA record (RFC 6698): how a TLS server's certificate or key is to be matched.
public struct TLSARecord: DNSRecord {
    public static let type = DNSRecordType.tlsa
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    public let usage: UInt8
    /// 0 full certificate, 1 SubjectPublicKeyInfo.
    public let selector: UInt8
    /// 0 exact, 1 SHA-256, 2 SHA-512.
    public let matchingType: UInt8
    public let data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    public init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws {
        guard rdata.count >= 3 else { throw DNSMessage.ParseError("TLSA record shorter than 3 octets") }
        let start = rdata.startIndex
        self.init(usage: rdata[start], selector: rdata[start + 1], matchingType: rdata[start + 2], data: Array(rdata.dropFirst(3)))
    }
}

/// A CAA record (RFC 8659): which certificate authorities may issue for the domain.
public struct CAARecord: DNSRecord {
    public static let type = DNSRecordType.caa
    public let flags: UInt8
    /// Lower-cased property tag, e.g. `issue`, `issuewild`, `iodef`.
    public let tag: String
    public let value: [UInt8]
    /// The issuer-critical flag (bit 0, value 128).
    public var isCritical: Bool { flags & 0x80 != 0 }

    public init(flags: UInt8, tag: String, value: [UInt8]) {
        self.flags = flags
        self.tag = tag.lowercased()
        self.value = value
    }

    public init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws {
        guard rdata.count >= 2 else { throw DNSMessage.ParseError("CAA record shorter than 2 octets") }
        let start = rdata.startIndex
        let tagLength = Int(rdata[start + 1])
        guard tagLength >= 1, start + 2 + tagLength <= rdata.endIndex else { throw DNSMessage.ParseError("CAA tag length is 0 or runs past its record") }
        let tag = rdata[(start + 2)..<(start + 2 + tagLength)]
        guard tag.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            throw DNSMessage.ParseError("CAA tag is not letters and digits")
        }
        self.init(flags: rdata[start], tag: String(decoding: tag, as: UTF8.self), value: Array(rdata[(start + 2 + tagLength)...]))
    }
}

/// An A record's IPv4 address.
public struct ARecord: DNSRecord {
    public static let type = DNSRecordType.a
    public let address: IPAddress

    public init(address: IPAddress) { self.address = address }

    public init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws {
        guard rdata.count == 4, let address = IPAddress(bytes: rdata) else { throw DNSMessage.ParseError("A record is not 4 octets") }
        self.address = address
    }
}

/// An AAAA record's IPv6 address.
public struct AAAARecord: DNSRecord {
    public static let type = DNSRecordType.aaaa
    public let address: IPAddress

    public init(address: IPAddress) { self.address = address }

    public init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws {
        guard rdata.count == 16, let address = IPAddress(bytes: rdata) else { throw DNSMessage.ParseError("AAAA record is not 16 octets") }
        self.address = address
    }
}

/// A PTR record's name: what an address's reverse name (`in-addr.arpa`, `ip6.arpa`) points to, which
/// SPF's `ptr` mechanism and `%{p}` macro check forward (RFC 7208 §5.5).
public struct PTRRecord: DNSRecord {
    public static let type = DNSRecordType.ptr
    public let target: DNSName

    public init(target: DNSName) { self.target = target }

    public init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws {
        let (name, end) = try message.name(at: rdata.startIndex)
        guard end == rdata.endIndex else { throw DNSMessage.ParseError("PTR record has trailing octets") }
        target = name
    }
}

/// A CNAME record's target.
public struct CNAMERecord: DNSRecord {
    public static let type = DNSRecordType.cname
    public let target: DNSName

    public init(target: DNSName) { self.target = target }

    public init(rdata: ArraySlice<UInt8>, in message: DNSMessage) throws {
        let (name, end) = try message.name(at: rdata.startIndex)
        guard end == rdata.endIndex else { throw DNSMessage.ParseError("CNAME record has trailing octets") }
        target = name
    }
}
