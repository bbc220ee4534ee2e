import Foundation

/// A DNS host name as Palisade stores and compares it: IDNA A-labels, lower case, no trailing dot.
///
/// Every domain that reaches a policy, a key look-up or the database goes through this type, so two
/// spellings of one domain (`Example.ORG.`, `bücher.example`, `xn--bcher-kva.example`) are always one value.
public struct DomainName: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The A-label form, e.g. `xn--bcher-kva.example`.
    public let ascii: String

    /// Why a string is not a usable host name.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let input: String
        public let reason: String
        public var description: String { "invalid domain name \"\(input.prefix(80))\": \(reason)" }
    }

    /// Parses a host name. Normalisation, in order: one trailing dot removed; Unicode NFC and lower case;
    /// each label that is not plain ASCII converted to an A-label with Punycode (RFC 3492, RFC 5891);
    /// then the LDH rules checked: labels of 1–63 octets made of letters, digits and inner hyphens, a name
    /// of at most 253 octets with at least two labels and a top-level label that is not all digits.
    /// A-labels given as input are checked to decode; full UTS #46 mapping (e.g. of full-width forms)
    /// is not applied, such input is refused rather than guessed at.
    public init(_ input: String) throws {
        func fail(_ reason: String) -> ParseError { ParseError(input: input, reason: reason) }
        guard !input.isEmpty else { throw fail("it is empty") }
        guard input.utf8.count <= 1024 else { throw fail("it is longer than 1024 bytes") }
        var text = input.precomposedStringWithCanonicalMapping.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw fail("it needs at least two labels") }
        var asciiLabels: [String] = []
        for label in labels {
            guard !label.isEmpty else { throw fail("it has an empty label") }
            let ascii: String
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                ascii = String(label)
                if ascii.hasPrefix("xn--") {
                    guard let decoded = Punycode.decode(String(ascii.dropFirst(4))), !decoded.isEmpty,
                          decoded.unicodeScalars.contains(where: { !$0.isASCII }) else {
                        throw fail("label \"\(ascii)\" is not a valid A-label")
                    }
                }
            } else {
                guard label.unicodeScalars.allSatisfy(Self.isAllowedUnicode) else {
                    throw fail("label \"\(label)\" contains a character not allowed in a host name")
                }
                guard let encoded = Punycode.encode(String(label)) else { throw fail("label \"\(label)\" cannot be encoded") }
                ascii = "xn--" + encoded
            }
            guard ascii.utf8.count <= 63 else { throw fail("label \"\(ascii.prefix(70))\" is longer than 63 octets") }
            guard ascii.utf8.allSatisfy({ Self.isLDH($0) }) else {
                throw fail("label \"\(ascii)\" may contain only letters, digits and hyphens")
            }
            guard ascii.first != "-", ascii.last != "-" else { throw fail("label \"\(ascii)\" starts or ends with a hyphen") }
            if ascii.count >= 4, Array(ascii.utf8)[2] == UInt8(ascii: "-"), Array(ascii.utf8)[3] == UInt8(ascii: "-"), !ascii.hasPrefix("xn--") {
                throw fail("label \"\(ascii)\" has hyphens in the third and fourth positions (reserved)")
            }
            asciiLabels.append(ascii)
        }
        if asciiLabels.last!.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            throw fail("the top-level label is all digits (an IP address is not a domain name)")
        }
        let joined = asciiLabels.joined(separator: ".")
        guard joined.utf8.count <= 253 else { throw fail("it is longer than 253 octets") }
        self.ascii = joined
    }

    /// The name with A-labels decoded to Unicode, for display only.
    public var unicode: String {
        ascii.split(separator: ".").map { label in
            label.hasPrefix("xn--") ? (Punycode.decode(String(label.dropFirst(4))) ?? String(label)) : String(label)
        }.joined(separator: ".")
    }

    public var labels: [Substring] { ascii.split(separator: ".") }
    public var description: String { ascii }

    /// Whether this name is `other` or below it (`mail.example.org` is within `example.org`).
    public func isSubdomain(of other: DomainName) -> Bool {
        ascii == other.ascii || ascii.hasSuffix("." + other.ascii)
    }

    public static func < (lhs: DomainName, rhs: DomainName) -> Bool { lhs.ascii < rhs.ascii }

    public init(from decoder: any Decoder) throws {
        try self.init(decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(ascii)
    }

    private static func isLDH(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 45
    }

    /// Letters, marks and digits of any script; never spaces, punctuation, symbols or controls.
    private static func isAllowedUnicode(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return isLDH(UInt8(scalar.value)) }
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
            return true
        default:
            return false
        }
    }
}
