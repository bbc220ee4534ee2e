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
