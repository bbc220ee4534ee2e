import Foundation

/// A mailbox address (RFC 5321 `Mailbox`, RFC 5322 `addr-spec`, RFC 6531 UTF-8 local parts) in the one
/// form Palisade stores, compares and looks up.
///
/// Normalisation rules:
/// - The domain is a `DomainName`: A-labels, lower case, no trailing dot. Address literals (`[192.0.2.1]`)
///   are refused: every address Palisade handles belongs to a domain.
/// - The local part is NFC-normalised; a quoted local part whose content is a valid dot-atom is unquoted
///   (`"john.doe"@x` is `john.doe@x`), and needless backslash escapes inside quotes are removed.
/// - Identity is case-insensitive in the local part. RFC 5321 lets a host tell `Alice` from `alice`, but a
///   platform that did so would let one person's address be registered again by someone else in a
///   different case, which is exactly the impersonation the alias rules exist to stop. `localPart` keeps
///   the case as written; `canonical` (used for equality, hashing and the database) is lower case.
/// - No provider-specific folding (dots, `+tags`) happens here: that is policy, not syntax.
/// - Limits: local part at most 64 octets, whole address at most 254 octets (RFC 5321 4.5.3.1 and errata).
public struct EmailAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The local part as written (after unquoting where possible), e.g. `Alice.Smith`.
    public let localPart: String
    public let domain: DomainName

    /// Why a string is not a usable address.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let input: String
        public let reason: String
        public var description: String { "invalid e-mail address \"\(input.prefix(80))\": \(reason)" }
    }

    public init(_ input: String) throws {
        func fail(_ reason: String) -> ParseError { ParseError(input: input, reason: reason) }
        guard input.utf8.count <= 254 else { throw fail("it is longer than 254 octets") }
        guard let at = input.lastIndex(of: "@") else { throw fail("it has no @") }
        let rawLocal = String(input[..<at])
        let rawDomain = String(input[input.index(after: at)...])
        guard !rawLocal.isEmpty else { throw fail("the local part is empty") }
        guard !rawDomain.isEmpty else { throw fail("the domain is empty") }
        guard !rawDomain.hasPrefix("[") else { throw fail("address literals are not accepted") }
        let local: String
        if rawLocal.hasPrefix("\"") {
            guard let content = Self.unquote(rawLocal) else { throw fail("the quoted local part is malformed") }
            local = Self.isDotAtom(content) ? content : Self.quote(content)
        } else {
            guard Self.isDotAtom(rawLocal) else {
                throw fail("the local part contains a character that needs quoting, or a misplaced dot")
            }
            local = rawLocal
        }
        let normalizedLocal = local.precomposedStringWithCanonicalMapping
        guard normalizedLocal.utf8.count <= 64 else { throw fail("the local part is longer than 64 octets") }
        do {
            self.domain = try DomainName(rawDomain)
        } catch let error as DomainName.ParseError {
            throw fail(error.reason)
        }
        self.localPart = normalizedLocal
        guard canonical.utf8.count <= 254 else { throw fail("it is longer than 254 octets once normalised") }
    }

    /// The form used for identity: lower-case local part, A-label domain.
    public var canonical: String { localPart.lowercased() + "@" + domain.ascii }
    public var description: String { localPart + "@" + domain.ascii }

    public static func == (lhs: EmailAddress, rhs: EmailAddress) -> Bool { lhs.canonical == rhs.canonical }
    public func hash(into hasher: inout Hasher) { hasher.combine(canonical) }

    public init(from decoder: any Decoder) throws {
        try self.init(decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    // MARK: - RFC 5322 syntax

    /// atext (RFC 5322 3.2.3) plus any non-ASCII scalar (RFC 6531 UTF8-non-ascii).
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        if !scalar.isASCII { return scalar.properties.generalCategory != .control && scalar.properties.generalCategory != .format && !scalar.properties.isWhitespace }
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
        }
    }

    static func isDotAtom(_ text: String) -> Bool {
        let atoms = text.split(separator: ".", omittingEmptySubsequences: false)
        return !text.isEmpty && atoms.allSatisfy { !$0.isEmpty && $0.unicodeScalars.allSatisfy(isAtext) }
    }

    /// The content of a quoted-string, or nil if it is not one (qtext, quoted-pair; no folding whitespace).
    static func unquote(_ text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 2, scalars.first == "\"", scalars.last == "\"" else { return nil }
        var content = String.UnicodeScalarView()
        var index = 1
        while index < scalars.count - 1 {
            let scalar = scalars[index]
            if scalar == "\\" {
                index += 1
                guard index < scalars.count - 1, scalars[index].value >= 0x20 || scalars[index] == "\t", scalars[index].value != 0x7F else { return nil }
                content.append(scalars[index])
            } else if scalar == "\"" || scalar.value < 0x20 || scalar.value == 0x7F {
                return nil
            } else {
                content.append(scalar)
            }
            index += 1
        }
        return content.isEmpty ? nil : String(content)
    }

    static func quote(_ content: String) -> String {
        var quoted = "\""
        for scalar in content.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { quoted.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }
}
