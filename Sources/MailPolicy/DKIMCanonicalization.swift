/// DKIM's canonicalization (RFC 6376 §3.4): what exactly the body hash and the header signature cover,
/// under "simple" (as received) and "relaxed" (white space and case normalised).
public enum DKIMCanonicalization {
    /// One header field as it enters the header hash, ending in CRLF.
    public static func header(_ field: MailHeaderField, _ mode: DKIMSignature.Canonicalization) -> [UInt8] {
        switch mode {
        case .simple:
            return Array(field.name.utf8) + [0x3A] + field.bytes + [0x0D, 0x0A]
        case .relaxed:
            // Unfold, compress white space runs to one space, trim both ends; name lower-cased (§3.4.2).
            var value: [UInt8] = []
            var pendingSpace = false
            for byte in field.bytes where byte != 0x0D && byte != 0x0A {
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
    /// compresses white space runs within lines and drops it at line ends. One pass, one output array:
    /// memory stays within the body's size whatever its lines.
    public static func body(_ body: [UInt8], _ mode: DKIMSignature.Canonicalization) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count + 2)
        var pendingLines = 0          // empty lines seen but not yet written (dropped if nothing follows)
        var line: [UInt8] = []        // the current line, canonicalized
        var pendingSpace = false
        func endLine() {
            if line.isEmpty {
                pendingLines += 1
            } else {
                for _ in 0..<pendingLines { output += [0x0D, 0x0A] }
                pendingLines = 0
                output += line
                output += [0x0D, 0x0A]
            }
            line.removeAll(keepingCapacity: true)
            pendingSpace = false
        }
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            if byte == 0x0A {
                endLine()
            } else if byte == 0x0D, index + 1 < body.endIndex, body[index + 1] == 0x0A {
                // CR of CRLF: the LF ends the line.
            } else if mode == .relaxed, byte == 0x20 || byte == 0x09 {
                pendingSpace = true
            } else {
                if pendingSpace { line.append(0x20); pendingSpace = false }
                line.append(byte)
            }
            index += 1
        }
        if !line.isEmpty { endLine() }  // a last line without CRLF
        if output.isEmpty { return mode == .simple ? [0x0D, 0x0A] : [] }
        return output
    }
}
