/// ASCII armor (RFC 9580 §6): the text form of OpenPGP data.
///
/// Decoding accepts several blocks in one text, armor headers, and a checksum line that is missing or
/// wrong: RFC 9580 §6.1 says the CRC24 must not cause rejection, so a mismatch is only reported.
public enum Armor {
    /// The block types Palisade reads and writes.
    public enum Kind: String, Sendable, CaseIterable {
        case publicKey = "PGP PUBLIC KEY BLOCK"
        case privateKey = "PGP PRIVATE KEY BLOCK"
        case signature = "PGP SIGNATURE"
        case message = "PGP MESSAGE"
    }

    /// One decoded armor block.
    public struct Block: Sendable, Equatable {
        public let kind: Kind
        public let headers: [(key: String, value: String)]
        public let data: [UInt8]
        /// False when a checksum line was present and did not match (the data is still returned).
        public let checksumMatched: Bool

        public static func == (lhs: Block, rhs: Block) -> Bool {
            lhs.kind == rhs.kind && lhs.data == rhs.data && lhs.checksumMatched == rhs.checksumMatched
                && lhs.headers.map(\.key) == rhs.headers.map(\.key) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
        }
    }

    /// Whether `bytes` look armored (start with `-----BEGIN PGP`, after blank space) rather than binary.
    public static func isArmored(_ bytes: some Collection<UInt8>) -> Bool {
        let start = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        return start.starts(with: Array("-----BEGIN PGP".utf8))
    }

    /// Decodes every armor block in `text`, in order. Text outside blocks is ignored.
    public static func decode(_ text: [UInt8], limits: OpenPGPLimits = .default) throws(OpenPGPError) -> [Block] {
        guard text.count <= limits.maximumInputSize else {
            throw OpenPGPError(.tooLarge, "armored input is larger than \(limits.maximumInputSize) bytes")
        }
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            var line = line
            while let last = line.last, last == 0x0D || last == 0x20 || last == 0x09 { line = line.dropLast() }
            return line
        }
        var blocks: [Block] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            guard line.starts(with: Array("-----BEGIN ".utf8)), line.hasSuffix(Array("-----".utf8)) else { continue }
            let label = String(decoding: line.dropFirst(11).dropLast(5), as: UTF8.self)
            guard let kind = Kind(rawValue: label) else {
                throw OpenPGPError(.armor, "unknown armor block \"\(label.prefix(60))\"")
            }
            // Armor headers: "Key: Value" lines up to the first empty line.
            var headers: [(key: String, value: String)] = []
            while index < lines.count, !lines[index].isEmpty {
                let header = String(decoding: lines[index], as: UTF8.self)
                guard let colon = header.firstIndex(of: ":") else {
                    // No blank line after the headers: some tools omit it when there are none.
                    break
                }
                headers.append((String(header[..<colon]), String(header[header.index(after: colon)...]).trimmingSpaces()))
                index += 1
            }
            if index < lines.count, lines[index].isEmpty { index += 1 }
            var body: [UInt8] = []
            var checksum: ArraySlice<UInt8>?
            var ended = false
            while index < lines.count {
                let line = lines[index]
                index += 1
                if line.starts(with: Array("-----END ".utf8)) {
                    guard String(decoding: line.dropFirst(9).dropLast(5), as: UTF8.self) == label else {
                        throw OpenPGPError(.armor, "armor block \"\(label)\" ends with \"\(String(decoding: line.prefix(80), as: UTF8.self))\"")
                    }
                    ended = true
                    break
                }
                if line.first == UInt8(ascii: "="), line.count == 5 {
                    checksum = line.dropFirst()
                    continue
                }
                body.append(contentsOf: line)
            }
            guard ended else { throw OpenPGPError(.armor, "armor block \"\(label)\" has no END line") }
            guard let data = Base64.decode(body) else {
                throw OpenPGPError(.armor, "armor block \"\(label)\" is not valid base64")
            }
            var matched = true
            if let checksum {
                let expected = Base64.decode(Array(checksum))
                let crc = CRC24.checksum(data)
                matched = expected == [UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
            }
            blocks.append(Block(kind: kind, headers: headers, data: data, checksumMatched: matched))
        }
        return blocks
    }

    /// Armors `data` as one block with 64-column lines and a CRC24 line (still written, as gpg 2.2 expects).
    public static func encode(_ data: [UInt8], as kind: Kind, headers: [(key: String, value: String)] = []) -> String {
        var text = "-----BEGIN \(kind.rawValue)-----\n"
        for (key, value) in headers { text += "\(key): \(value)\n" }
        text += "\n"
        let encoded = Base64.encode(data)
        var start = encoded.startIndex
        while start < encoded.endIndex {
            let end = encoded.index(start, offsetBy: 64, limitedBy: encoded.endIndex) ?? encoded.endIndex
            text += encoded[start..<end] + "\n"
            start = end
        }
        let crc = CRC24.checksum(data)
        text += "=" + Base64.encode([UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]) + "\n"
        text += "-----END \(kind.rawValue)-----\n"
        return text
    }
}

/// The CRC-24 of RFC 9580 §6.1.
enum CRC24 {
    static func checksum(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xB7_04CE
        for byte in data {
            crc ^= UInt32(byte) << 16
            for _ in 0..<8 {
                crc <<= 1
                if crc & 0x100_0000 != 0 { crc ^= 0x186_4CFB }
            }
        }
        return crc & 0xFF_FFFF
    }
}

/// Strict base64 (RFC 4648 §4) for armor: whitespace inside lines is skipped, anything else refused.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text {
            if byte == 0x20 || byte == 0x09 { continue }
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(buffer >> UInt32(bits) & 0xFF))
            }
        }
        guard padding <= 2 else { return nil }
        return output
    }

    static func encode(_ data: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((data.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= data.count {
            let value = UInt32(data[index]) << 16 | UInt32(data[index + 1]) << 8 | UInt32(data[index + 2])
            output += [alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)], alphabet[Int(value & 63)]]
            index += 3
        }
        let rest = data.count - index
        if rest == 1 {
            let value = UInt32(data[index]) << 16
            output += [alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let value = UInt32(data[index]) << 16 | UInt32(data[index + 1]) << 8
            output += [alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension ArraySlice where Element == UInt8 {
    func hasSuffix(_ suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self.suffix(suffix.count)) == suffix }
}
