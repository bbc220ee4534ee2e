import Foundation

/// One forward-only schema change: `Schemas/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Reads every `NNNN_name.sql` in `directory`, in version order. Other files are ignored; two files
    /// with one version number, or a file that manages its own transaction, are refused.
    public static func load(from directory: String) throws -> [Migration] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError(code: .directoryUnreadable, message: "cannot list migrations in \(directory): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for file in files.sorted() where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0,
                  parts[1].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw MigrationError(code: .badFileName, message: "\(file) is not named NNNN_name.sql")
            }
            let sql = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            if managesItsOwnTransaction(sql) {
                throw MigrationError(code: .badFileName, message: "\(file) contains BEGIN/COMMIT: each migration already runs in its own transaction")
            }
            if let clash = migrations.first(where: { $0.version == version }) {
                throw MigrationError(code: .badFileName, message: "\(file) and \(String(format: "%04d", clash.version))_\(clash.name).sql share a version number")
            }
            migrations.append(Migration(version: version, name: String(parts[1]), sql: sql))
        }
        return migrations
    }

    /// Whether the SQL, outside comments and dollar-quoted bodies (functions, DO blocks), has a statement
    /// that begins or ends a transaction.
    static func managesItsOwnTransaction(_ sql: String) -> Bool {
        var text = sql.replacingOccurrences(of: #"(?s)\$([A-Za-z_]*)\$.*?\$\1\$"#, with: " ", options: .regularExpression)
        text = text.replacingOccurrences(of: #"--[^\n]*"#, with: " ", options: .regularExpression)
        text = text.replacingOccurrences(of: #"(?s)/\*.*?\*/"#, with: " ", options: .regularExpression)
        return text.range(of: #"(?mi)(^|;)\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b[^;]*(;|$)"#, options: .regularExpression) != nil
    }

    /// Where the migrations are: the configured directory, else the installed copy, else `./Schemas`.
    public static func defaultDirectory(configured: String) -> String {
        if !configured.isEmpty { return configured }
        let installed = "/usr/share/palisade/schemas"
        return FileManager.default.fileExists(atPath: installed) ? installed : "Schemas"
    }
}

/// Why migrations could not run; nothing was applied past the last good migration.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        public static let directoryUnreadable = Code(name: "directoryUnreadable")
        public static let badFileName = Code(name: "badFileName")
        /// An applied migration's file changed since it ran.
        public static let checksumMismatch = Code(name: "checksumMismatch")
        /// An applied migration's file is gone.
        public static let missingFile = Code(name: "missingFile")
        /// A migration's SQL failed; its transaction was rolled back.
        public static let failed = Code(name: "failed")
        /// The connecting role may not migrate (only palisade_admin and the database owner may).
        public static let notPermitted = Code(name: "notPermitted")
    }

    public var code: Code
    public var message: String
    public var description: String { message }
}
