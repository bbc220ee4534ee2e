/// A one-dimensional array parameter in PostgreSQL's text form (`{"a","b",NULL}`), cast in SQL with
/// `::text[]`, `::bigint[]`, `::uuid[]` and so on. Elements are always quoted and escaped.
public struct PostgresArray: PostgresEncodable {
    public let elements: [String?]

    public init(_ values: [some PostgresEncodable]) {
        elements = values.map(\.postgresText)
    }

    public init(optionals values: [(some PostgresEncodable)?]) {
        elements = values.map { $0?.postgresText }
    }

    public var postgresText: String? {
        var text: [UInt8] = [UInt8(ascii: "{")]
        text.reserveCapacity(2 + elements.reduce(0) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (index, element) in elements.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            guard let element else {
                text.append(contentsOf: "NULL".utf8)
                continue
            }
            text.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { text.append(UInt8(ascii: "\\")) }
                text.append(byte)
            }
            text.append(UInt8(ascii: "\""))
        }
        text.append(UInt8(ascii: "}"))
        return String(decoding: text, as: UTF8.self)
    }
}
