/// Hexadecimal digits, written and read byte by byte: fingerprints, bytea and UUID text all use them.
public enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)
    static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// `bytes` as hex, two digits each: fingerprints, TLSA data, digests.
    public static func string(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        let table = uppercase ? upperDigits : digits
        return String(decoding: bytes.flatMap { [table[Int($0 >> 4)], table[Int($0 & 0x0F)]] }, as: UTF8.self)
    }

    /// The value of one ASCII hex digit of either case, or nil.
    static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 97...102: return byte - 87
        case 65...70: return byte - 55
        default: return nil
        }
    }
}
