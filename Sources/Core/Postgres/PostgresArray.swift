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
        var text = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { text += "," }
            guard let element else {
                text += "NULL"
                continue
            }
            text += "\""
            if element.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                for character in element {
                    if character == "\"" || character == "\\" { text += "\\" }
                    text.append(character)
                }
            } else {
                text += element
            }
            text += "\""
        }
        return text + "}"
    }
}
