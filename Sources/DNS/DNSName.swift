/// A name as DNS carries it: labels of octets, compared without regard to ASCII case.
///
/// Query names are not always host names (`_mta-sts.example.org`, `_25._tcp.mx.example.org`), so the
/// resolver takes and returns this type rather than `DomainName`; `init(_:DomainName)` bridges the two.
/// Text form: labels joined by dots, no trailing dot, lower case, octets outside letters, digits, `-`,
/// `_` and `*` written as `\DDD`.
public struct DNSName: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// Lower-cased labels, root excluded. Empty for the root.
    public let labels: [[UInt8]]

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let input: String
        public let reason: String
        public var description: String { "invalid DNS name \"\(input.prefix(80))\": \(reason)" }
    }

    /// Longest name on the wire, the root label included (RFC 1035 §3.1).
    public static let maximumWireLength = 255

    public init(labels: [[UInt8]]) throws {
        let lowered = labels.map { $0.map(Self.lowercased) }
        guard lowered.allSatisfy({ !$0.isEmpty && $0.count <= 63 }) else {
            throw ParseError(input: lowered.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "."), reason: "a label is empty or longer than 63 octets")
        }
        guard lowered.reduce(1, { $0 + $1.count + 1 }) <= Self.maximumWireLength else {
            throw ParseError(input: lowered.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "."), reason: "it is longer than 255 octets on the wire")
        }
        self.labels = lowered
    }

    /// Parses the text form: dot-separated labels, an optional trailing dot, `\.` and `\DDD` escapes.
    public init(_ text: String) throws {
        guard text.utf8.count <= 1024 else { throw ParseError(input: text, reason: "it is longer than 1024 bytes") }
        if text == "." || text.isEmpty {
            try self.init(labels: [])
            return
        }
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        if bytes.last == UInt8(ascii: "."), bytes.dropLast().last != UInt8(ascii: "\\") { bytes = bytes.dropLast() }
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "."):
                guard !current.isEmpty else { throw ParseError(input: text, reason: "it has an empty label") }
                labels.append(current)
                current = []
            case UInt8(ascii: "\\"):
                guard let next = bytes.popFirst() else { throw ParseError(input: text, reason: "it ends in a backslash") }
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                    let digits = [next] + bytes.prefix(2)
                    guard digits.count == 3, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                          let value = UInt8(String(decoding: digits, as: UTF8.self)) else {
                        throw ParseError(input: text, reason: "a \\DDD escape is not three digits up to 255")
                    }
                    bytes = bytes.dropFirst(2)
                    current.append(value)
                } else {
                    current.append(next)
                }
            case 0x21...0x7E:
                current.append(byte)
            default:
                throw ParseError(input: text, reason: "it contains a space, a control character or non-ASCII (use the A-label form)")
            }
        }
        guard !current.isEmpty else { throw ParseError(input: text, reason: "it has an empty label") }
        labels.append(current)
        do {
            try self.init(labels: labels)
        } catch let error as ParseError {
            throw ParseError(input: text, reason: error.reason)
        }
    }

    /// The root name, `.`.
    public static let root = try! DNSName(labels: [])

    public var isRoot: Bool { labels.isEmpty }

    /// This name with `label` in front, e.g. `_mta-sts` + `example.org`.
    public func prepending(_ label: String) throws -> DNSName {
        try DNSName(label + "." + description)
    }

    /// Whether this name is `other` or lies below it.
    public func isSubdomain(of other: DNSName) -> Bool {
        labels.count >= other.labels.count && Array(labels.suffix(other.labels.count)) == other.labels
    }

    public var description: String {
        if isRoot { return "." }
        return labels.map { label in
            var text = ""
            for byte in label {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "*"):
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            return text
        }.joined(separator: ".")
    }

    /// The fully qualified text form with a trailing dot, as libunbound takes it.
    public var absolute: String { isRoot ? "." : description + "." }

    public static func < (lhs: DNSName, rhs: DNSName) -> Bool { lhs.description < rhs.description }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}

extension DNSName: ExpressibleByStringLiteral {
    /// For names written in code; a malformed literal is a programming error.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }
}

import Core

extension DNSName {
    /// A host name as DNS asks for it.
    public init(_ domain: DomainName) {
        do { try self.init(domain.ascii) } catch { preconditionFailure("a DomainName is always a valid DNS name: \(error)") }
    }
}
