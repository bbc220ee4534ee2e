/// DKIM's canonicalization (RFC 6376 §3.4): what exactly the body hash and the header signature cover,
/// under "simple" (as received) and "relaxed" (white space and case normalised).
public enum DKIMCanonicalization {
    /// One header field as it enters the header hash, ending in CRLF.
    public static func header(_ field: MailHeaderField, _ mode: DKIMSignature.Canonicalization) -> [UInt8] {
        switch mode {
        case .simple:
            return Array((field.name + ":" + field.value + "\r\n").utf8)
        case .relaxed:
            // Unfold, compress white space runs to one space, trim both ends; name lower-cased (§3.4.2).
            var value: [UInt8] = []
            var pendingSpace = false
            for byte in field.value.utf8 where byte != 0x0D && byte != 0x0A {
                if byte == 0x20 || byte == 0x09 {
                    pendingSpace = !value.isEmpty
                    continue
                }
                if pendingSpace { value.append(0x20); pendingSpace = false }
                value.append(byte)
            }
            return Array(field.name.lowercased().trimmingWhitespace().utf8) + [0x3A] + value + [0x0D, 0x0A]
        }
    }

    /// The body as hashed (§3.4.3, §3.4.4): lines end in CRLF (a bare LF is read as one), empty lines
    /// at the end removed; "simple" keeps an empty body as one CRLF, "relaxed" as nothing and also
    /// compresses white space runs within lines and drops it at line ends.
    public static func body(_ body: [UInt8], _ mode: DKIMSignature.Canonicalization) -> [UInt8] {
        var lines: [ArraySlice<UInt8>] = []
        var start = body.startIndex
        var index = body.startIndex
        while index < body.endIndex {
            if body[index] == 0x0A {
                var end = index
                if end > start, body[end - 1] == 0x0D { end -= 1 }
                lines.append(body[start..<end])
                start = index + 1
            }
            index += 1
        }
        if start < body.endIndex { lines.append(body[start...]) }  // a last line without CRLF
        var output: [UInt8] = []
        output.reserveCapacity(body.count + 2)
        var processed: [[UInt8]] = lines.map { line in
            guard mode == .relaxed else { return Array(line) }
            var result: [UInt8] = []
            var pendingSpace = false
            for byte in line {
                if byte == 0x20 || byte == 0x09 { pendingSpace = true; continue }
                if pendingSpace { result.append(0x20); pendingSpace = false }
                result.append(byte)
            }
            return result
        }
        while let last = processed.last, last.isEmpty { processed.removeLast() }
        if processed.isEmpty { return mode == .simple ? [0x0D, 0x0A] : [] }
        for line in processed { output += line; output += [0x0D, 0x0A] }
        return output
    }
}
