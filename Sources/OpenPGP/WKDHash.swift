/// The Web Key Directory's names for a mail address (draft-koch-openpgp-webkey-service §3.1).
public enum WKDHash {
    /// The z-base-32 SHA-1 of the local part with ASCII upper case mapped to lower case — the draft's
    /// rule (`Joe.Doe` → `iy9q119eutrkn8s1mk4r39qejnbu3n5q`). Non-ASCII letters are left alone.
    public static func hash(localPart: String) -> String {
        zBase32(Digest.hash(.sha1, Array(asciiLowercased(localPart).utf8))!)
    }

    /// The variant some clients (sq, Thunderbird) ask for: every letter lower-cased, non-ASCII too.
    /// Serving both keeps those clients working for addresses with non-ASCII local parts.
    public static func hashLowercasingAll(localPart: String) -> String {
        zBase32(Digest.hash(.sha1, Array(localPart.lowercased().utf8))!)
    }

    /// The `?l=` query parameter: the local part as given, percent-encoded (RFC 3986 unreserved kept).
    public static func localPartParameter(_ localPart: String) -> String {
        var encoded = ""
        for byte in localPart.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }

    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// z-base-32 (Zooko's human-oriented base-32), as WKD uses it.
    static func zBase32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ybndrfg8ejkmcpqxot1uwisza345h769".utf8)
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[Int(buffer >> UInt32(bits) & 31)])
            }
        }
        if bits > 0 { output.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
