/// The fuzzer's way in (`Fuzz/WKDRequestFuzzer`): bytes read as the listener reads a connection's stream,
/// request after request, each through the head parser, the WKD path reader and `If-None-Match`. Public
/// so that the fuzz target needs no testable import; it checks the parser's own promises and traps if
/// one is broken.
public enum WKDRequestFuzzing {
    public static func readAsRequests(_ bytes: [UInt8]) {
        // The search for a head's end resumed where an incomplete one stopped finds what a full search finds.
        let cut = bytes.count / 2
        if case .incomplete = WKDRequestHead.parse(Array(bytes[..<cut])) {
            precondition(bytes.withUnsafeBytes { WKDRequestHead.parse($0, scanned: cut) } == WKDRequestHead.parse(bytes),
                         "a resumed search agrees with a full one")
        }
        bytes.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let rest = UnsafeRawBufferPointer(rebasing: all[offset...])
                guard case .request(let head, let length) = WKDRequestHead.parse(rest) else { return }
                precondition(length > 0 && length <= rest.count, "a head's length is within the bytes")
                for range in [head.path, head.host, head.ifNoneMatch].compactMap({ $0 }) {
                    precondition(range.lowerBound >= 0 && range.upperBound <= length, "a field lies within its head")
                }
                if let host = head.host,
                   case .key(let domain, let hash)? = WKDRequest(host: UnsafeRawBufferPointer(rebasing: rest[host]), path: UnsafeRawBufferPointer(rebasing: rest[head.path])) {
                    precondition(hash.utf8.count == 32 && hash.utf8.allSatisfy(WKDRequest.isZBase32), "a hash is 32 letters of z-base-32")
                    precondition(!domain.isEmpty && domain == domain.lowercased(), "a domain is lower case")
                }
                if let tags = head.ifNoneMatch {
                    _ = WKDAnswer.matches(String(decoding: UnsafeRawBufferPointer(rebasing: rest[tags]), as: UTF8.self), "\"0123\"")
                }
                offset += length
            }
        }
    }
}
