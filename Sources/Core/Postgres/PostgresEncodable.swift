import Foundation

/// A Swift value that can be sent to PostgreSQL as a query parameter, in PostgreSQL's text format.
///
/// Parameters always travel separately from the SQL text (`PQexecParams`), so no value is ever spliced
/// into a statement. `nil` from `postgresText` sends SQL NULL.
public protocol PostgresEncodable: Sendable {
    var postgresText: String? { get }
}

extension String: PostgresEncodable {
    public var postgresText: String? { self }
}

extension Int: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Double: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Bool: PostgresEncodable {
    public var postgresText: String? { self ? "t" : "f" }
}

extension UUID: PostgresEncodable {
    /// Lower-case hex with dashes, written directly: Foundation's `uuidString` goes through `sprintf`, and
    /// the job queue formats one UUID per job.
    public var postgresText: String? {
        withUnsafeBytes(of: uuid) { bytes in
            var utf8: [UInt8] = []
            utf8.reserveCapacity(36)
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { utf8.append(UInt8(ascii: "-")) }
                utf8.append(Hex.digits[Int(byte >> 4)])
                utf8.append(Hex.digits[Int(byte & 0x0F)])
            }
            return String(decoding: utf8, as: UTF8.self)
        }
    }
}

extension Date: PostgresEncodable {
    /// Sent as seconds since the epoch with microseconds; the SQL casts it with `to_timestamp` or `::timestamptz`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Array: PostgresEncodable where Element == UInt8 {
    /// bytea in hex format.
    public var postgresText: String? {
        var text: [UInt8] = Array("\\x".utf8)
        text.reserveCapacity(2 + count * 2)
        for byte in self {
            text.append(Hex.digits[Int(byte >> 4)])
            text.append(Hex.digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

/// A JSON document sent as text; cast it with `::jsonb` in the SQL.
public struct PostgresJSON: PostgresEncodable, Hashable {
    public var text: String
    public init(text: String) { self.text = text }
    public init(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }
    public var postgresText: String? { text }
}
