/// The rows a statement returned, copied out of libpq's result so no C memory outlives the call.
public struct PostgresRows: Sendable, Sequence {
    public let columns: [String]
    let values: [String?]
    /// Rows affected by INSERT/UPDATE/DELETE (PostgreSQL's command tag), or the row count for SELECT.
    public let affectedRows: Int

    init(columns: [String], values: [String?], affectedRows: Int) {
        self.columns = columns
        self.values = values
        self.affectedRows = affectedRows
    }

    public var count: Int { columns.isEmpty ? 0 : values.count / columns.count }
    public var isEmpty: Bool { count == 0 }
    public var first: PostgresRow? { isEmpty ? nil : self[0] }

    public subscript(index: Int) -> PostgresRow {
        PostgresRow(rows: self, offset: index * columns.count)
    }

    public func makeIterator() -> AnyIterator<PostgresRow> {
        var index = 0
        return AnyIterator {
            guard index < count else { return nil }
            defer { index += 1 }
            return self[index]
        }
    }

    func columnIndex(_ name: String) -> Int? {
        columns.firstIndex(of: name)
    }
}

/// One row; columns are read by name with the type the caller expects.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let offset: Int

    /// The raw text of a column, `nil` for SQL NULL.
    public func text(_ column: String) throws -> String? {
        guard let index = rows.columnIndex(column) else {
            throw PostgresError(code: .decoding, message: "no column named \(column) in the result")
        }
        return rows.values[offset + index]
    }

    /// A non-NULL column decoded as `T`.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let text = try text(column) else {
            throw PostgresError(code: .decoding, message: "column \(column) is NULL, expected \(T.self)")
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError(code: .decoding, message: "column \(column) is not a valid \(T.self)")
        }
        return value
    }

    /// A nullable column decoded as `T?`.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let text = try text(column) else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(code: .decoding, message: "column \(column) is not a valid \(T.self)")
        }
        return value
    }
}
