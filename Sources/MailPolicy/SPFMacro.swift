import DNS
import Foundation

/// A `macro-string` of an SPF record (RFC 7208 §7.1): literal text and `%{…}` macros, expanded for each
/// check from the sender, the domain, the address and the HELO name.
public struct SPFMacroString: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case literal(String)
        /// `letter` lower-cased; `escape` when it was written upper case (URL-escape the value);
        /// `keep` the rightmost parts kept (nil: all); `reverse`; `delimiters` (default ".").
        case macro(letter: Character, escape: Bool, keep: Int?, reverse: Bool, delimiters: Set<Character>)
    }

    let parts: [Part]
    let text: String

    /// Parses the macro syntax; a malformed macro is a permerror.
    public init(_ text: String) throws(SPFError) {
        self.text = text
        var parts: [Part] = []
        var literal = ""
        var characters = Substring(text)
        while let character = characters.popFirst() {
            guard character == "%" else {
                guard character.isASCII, character != " " else { throw SPFError("\"\(text.prefix(60))\" has a character not allowed in a macro string") }
                literal.append(character)
                continue
            }
            switch characters.popFirst() {
            case "%": literal.append("%")
            case "_": literal.append(" ")
            case "-": literal.append("%20")
            case "{":
                guard let close = characters.firstIndex(of: "}") else { throw SPFError("\"\(text.prefix(60))\" has an unclosed macro") }
                var body = characters[..<close]
                characters = characters[characters.index(after: close)...]
                guard let letter = body.popFirst(), "slodiphcrtvSLODIPHCRTV".contains(letter) else {
                    throw SPFError("\"\(text.prefix(60))\" has an unknown macro letter")
                }
                let digits = body.prefix { $0.isASCII && $0.isNumber }
                body = body.dropFirst(digits.count)
                var keep: Int?
                if !digits.isEmpty {
                    guard digits.count <= 3, let count = Int(digits), count > 0 else { throw SPFError("\"\(text.prefix(60))\": a macro keeps at least one part") }
                    keep = count
                }
                var reverse = false
                if body.first == "r" || body.first == "R" {
                    reverse = true
                    body = body.dropFirst()
                }
                guard body.allSatisfy({ ".-+,/_=".contains($0) }) else { throw SPFError("\"\(text.prefix(60))\" has an invalid macro delimiter") }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.macro(letter: Character(letter.lowercased()), escape: letter.isUppercase, keep: keep, reverse: reverse,
                                    delimiters: body.isEmpty ? ["."] : Set(body)))
            default:
                throw SPFError("\"\(text.prefix(60))\" has a lone %")
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    /// RFC 7208 §7.1: `c`, `r` and `t` belong to explanations only; a domain-spec ends in a macro or a
    /// top label (not all digits).
    func checkDomainSpec(_ term: String) throws(SPFError) {
        for case let .macro(letter, _, _, _, _) in parts where "crt".contains(letter) {
            throw SPFError("\"\(term.prefix(60))\": %{\(letter)} is allowed only in explanations")
        }
        guard case .literal(let last)? = parts.last else { return }
        let labels = last.split(separator: ".", omittingEmptySubsequences: false)
        let top = labels.last == "" ? labels.dropLast().last : labels.last
        guard let top, !top.isEmpty, labels.count >= 2 || parts.count > 1,
              top.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }), !top.allSatisfy(\.isNumber),
              top.first != "-", top.last != "-" else {
            throw SPFError("\"\(term.prefix(60))\" does not end in a domain name")
        }
    }

    /// What the macros stand for in one check.
    struct Values {
        let sender: String
        let domain: String
        let ip: IPAddress
        let helo: String
        /// `%{p}`: the validated name of the address, looked up only when a macro asks for it.
        let validatedName: () async -> String
    }

    /// The expanded text (RFC 7208 §7.3, §7.4).
    func expand(_ values: Values) async -> String {
        var result = ""
        for part in parts {
            switch part {
            case .literal(let text):
                result += text
            case let .macro(letter, escape, keep, reverse, delimiters):
                let value: String
                switch letter {
                case "s": value = values.sender
                case "l": value = values.sender.lastIndex(of: "@").map { String(values.sender[..<$0]) } ?? "postmaster"
                case "o": value = values.sender.lastIndex(of: "@").map { String(values.sender[values.sender.index(after: $0)...]) } ?? values.sender
                case "d": value = values.domain
                case "i": value = Self.dotted(values.ip)
                case "p": value = await values.validatedName()
                case "v": value = values.ip.isIPv6 ? "ip6" : "in-addr"
                case "h": value = values.helo
                case "c": value = values.ip.description
                case "r": value = "unknown"
                default: value = String(Int(Date().timeIntervalSince1970))
                }
                var pieces = value.split(omittingEmptySubsequences: false) { delimiters.contains($0) }.map(String.init)
                if reverse { pieces.reverse() }
                if let keep, keep < pieces.count { pieces = Array(pieces.suffix(keep)) }
                let joined = pieces.joined(separator: ".")
                result += escape ? Self.urlEscaped(joined) : joined
            }
        }
        return result
    }

    /// `%{i}`: IPv4 dotted decimal; IPv6 as 32 dot-separated nibbles (§7.3).
    static func dotted(_ ip: IPAddress) -> String {
        guard ip.isIPv6 else { return ip.description }
        return ip.bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 0x0F, radix: 16)] }.joined(separator: ".")
    }

    /// RFC 3986 unreserved characters kept, every other byte %XX (§7.3, upper-case macro letters).
    static func urlEscaped(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "-._~".utf8.contains(byte) {
                result.append(Character(Unicode.Scalar(byte)))
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }
}
