import Foundation

/// An IPv4 or IPv6 address as DNS returned it; what `HTTPFetch` pins its connections to.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt8, UInt8, UInt8, UInt8)
    case v6([UInt8])

    /// From A (4 octets) or AAAA (16 octets) record data.
    public init?(bytes: some Collection<UInt8>) {
        let octets = Array(bytes)
        switch octets.count {
        case 4: self = .v4(octets[0], octets[1], octets[2], octets[3])
        case 16: self = .v6(octets)
        default: return nil
        }
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text.
    public init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(bytes: withUnsafeBytes(of: v4) { Array($0) })
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            self.init(bytes: withUnsafeBytes(of: v6) { Array($0) })
        } else {
            return nil
        }
    }

    public var isIPv6: Bool { if case .v6 = self { true } else { false } }

    /// The address in network byte order: 4 or 16 octets.
    public var bytes: [UInt8] {
        switch self {
        case let .v4(a, b, c, d): [a, b, c, d]
        case let .v6(octets): octets
        }
    }

    /// 127.0.0.0/8, ::1, or an IPv4-mapped loopback address (::ffff:127.x.y.z).
    public var isLoopback: Bool {
        switch self {
        case let .v4(a, _, _, _): return a == 127
        case let .v6(octets):
            if octets == [UInt8](repeating: 0, count: 15) + [1] { return true }
            return octets.prefix(10).allSatisfy { $0 == 0 } && octets[10] == 0xFF && octets[11] == 0xFF && octets[12] == 127
        }
    }

    /// Whether the address is globally reachable unicast: not loopback, private (RFC 1918, ULA),
    /// shared (100.64/10), link-local, multicast, documentation, benchmarking, reserved or unspecified;
    /// IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) IPv6 addresses are judged by the IPv4
    /// address inside; 2001::/23 (Teredo, benchmarking, ORCHID) is refused whole. What a
    /// fetch on behalf of someone outside may connect to.
    public var isPublic: Bool {
        switch self {
        case let .v4(a, b, c, _):
            switch a {
            case 0, 10, 127: return false
            case 100 where (64...127).contains(b): return false
            case 169 where b == 254: return false
            case 172 where (16...31).contains(b): return false
            case 192 where b == 168: return false
            case 192 where b == 0 && (c == 0 || c == 2): return false
            case 198 where b == 18 || b == 19: return false
            case 198 where b == 51 && c == 100: return false
            case 203 where b == 0 && c == 113: return false
            case 224...255: return false
            default: return true
            }
        case let .v6(octets):
            let zeros = octets.prefix(10).allSatisfy { $0 == 0 }
            if zeros && octets[10] == 0xFF && octets[11] == 0xFF { return IPAddress(bytes: octets.suffix(4))!.isPublic }
            if octets.prefix(12) == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return IPAddress(bytes: octets.suffix(4))!.isPublic }
            if octets.prefix(15).allSatisfy({ $0 == 0 }) { return false }                       // :: and ::1
            if octets[0] & 0xFE == 0xFC { return false }                                        // fc00::/7 unique local
            if octets[0] == 0xFE && octets[1] & 0xC0 == 0x80 { return false }                   // fe80::/10 link-local
            if octets[0] == 0xFF { return false }                                               // multicast
            if octets.prefix(4) == [0x20, 0x01, 0x0D, 0xB8] { return false }                    // 2001:db8::/32 documentation
            if octets.prefix(8) == [0x01, 0x00, 0, 0, 0, 0, 0, 0] { return false }              // 100::/64 discard
            if octets[0] == 0x20 && octets[1] == 0x02 { return IPAddress(bytes: octets[2..<6])!.isPublic }  // 2002::/16 6to4
            if octets[0] == 0x20 && octets[1] == 0x01 && octets[2] & 0xFE == 0 { return false }  // 2001::/23: Teredo, benchmarking, ORCHID
            if octets[0] == 0x3F && octets[1] == 0xFF && octets[2] & 0xF0 == 0 { return false }  // 3fff::/20 documentation
            return octets[0] & 0xE0 == 0x20                                                     // 2000::/3 global unicast
        }
    }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (as `inet_ntop` writes it).
    public var description: String {
        switch self {
        case let .v4(a, b, c, d):
            return "\(a).\(b).\(c).\(d)"
        case let .v6(octets):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: octets) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
