import Foundation

/// A Swift type that can be built from a column's text as PostgreSQL sends it.
///
/// Connections set `DateStyle=ISO` and `TimeZone=UTC`, so timestamps arrive in one known shape.
public protocol PostgresDecodable: Sendable {
    init?(postgresText: String)
}

extension String: PostgresDecodable {
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresDecodable {
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension UUID: PostgresDecodable {
    /// PostgreSQL's canonical form (`8-4-4-4-12` hex), parsed directly: Foundation's parser goes through
    /// `sscanf`, and the job queue parses one UUID per claimed job.
    public init?(postgresText: String) {
        var utf8 = postgresText.utf8.makeIterator()
        var bytes = [UInt8](repeating: 0, count: 16)
        var index = 0
        var position = 0
        while index < 16 {
            guard let high = utf8.next() else { return nil }
            position += 1
            if high == UInt8(ascii: "-") {
                guard position == 9 || position == 14 || position == 19 || position == 24 else { return nil }
                continue
            }
            guard let low = utf8.next(), let h = Hex.value(of: high), let l = Hex.value(of: low) else { return nil }
            position += 1
            bytes[index] = h << 4 | l
            index += 1
        }
        guard utf8.next() == nil else { return nil }
        self.init(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                         bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}

extension Date: PostgresDecodable {
    public init?(postgresText: String) {
        guard let date = PostgresTimestamp.parse(postgresText) else { return nil }
        self = date
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// bytea in hex format (`\x0a1b…`), PostgreSQL's default output.
    public init?(postgresText: String) {
        let utf8 = Array(postgresText.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            return nil
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = Hex.value(of: utf8[index]), let low = Hex.value(of: utf8[index + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}
