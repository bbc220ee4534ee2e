import Core
import Foundation
import Testing

@Suite("Configuration")
final class ConfigurationTests {
    /// This test's files, removed when it ends.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-config-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: scratch) }

    func write(_ yaml: String) throws -> String {
        let path = scratch.appendingPathComponent("palisade-\(UUID().uuidString.prefix(8)).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("Every section of the example configuration is Core's or known to belong to a service or library, so every service starts with it")
    func exampleSectionsKnown() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = root.appendingPathComponent("Deploy/palisade.example.yaml").path
        // A service's schema is Core's plus its own settings; with Core's alone, every other section must be foreign.
        let config = try await PalisadeConfiguration.load(explicitFilePath: example, environment: [:], schema: CoreSettings.schema)
        try config.check()
    }

    @Test("an unknown key is reported by name, with the file, line and a suggestion")
    func unknownKey() async throws {
        let path = try write("database:\n  url: postgresql://x@127.0.0.1/db\n  maxConection: 5\n")
        let error = await #expect(throws: ConfigurationErrors.self) {
            try await PalisadeConfiguration.load(explicitFilePath: path, environment: [:], schema: CoreSettings.schema)
        }
        let problem = try #require(error?.errors.first)
        #expect(problem.code == .unknownKey)
        #expect(problem.key == "database.maxConection")
        #expect(problem.source == "\(path), line 3")
        #expect(problem.description.contains("did you mean database.maxConnections?"))
    }

    @Test("a wrong type names the key and the file", arguments: [
        ("database:\n  maxConnections: lots\n", "database.maxConnections"),
        ("database:\n  maxConnections: \"5\"\n", "database.maxConnections"),
        ("database:\n  statementTimeout: 30\n", "database.statementTimeout"),
        ("log: verbose\n", "log"),
    ])
    func wrongType(yaml: String, key: String) async throws {
        let path = try write(yaml)
        let error = await #expect(throws: ConfigurationErrors.self) {
            try await PalisadeConfiguration.load(explicitFilePath: path, environment: [:], schema: CoreSettings.schema)
        }
        #expect(error?.errors.first?.code == .wrongType)
        #expect(error?.errors.first?.key == key)
        #expect(error?.errors.first?.source?.hasPrefix(path) == true)
    }

    @Test("flags override the environment, which overrides the file, which overrides the defaults")
    func precedence() async throws {
        let path = try write("database:\n  maxConnections: 7\n  statementTimeout: 5s\n  url: file-url\nlog:\n  level: debug\n")
        let config = try await PalisadeConfiguration.load(
            explicitFilePath: path, flags: ["--database-url", "flag-url"],
            environment: ["PALISADE_DATABASE_MAX_CONNECTIONS": "9", "PALISADE_DATABASE_URL": "env-url"], schema: CoreSettings.schema
        )
        #expect(CoreSettings.databaseURL.read(config) == "flag-url")
        #expect(CoreSettings.databaseMaxConnections.read(config) == 9)
        #expect(CoreSettings.databaseStatementTimeout.read(config) == .seconds(5))
        #expect(CoreSettings.logLevel.read(config) == "debug")
        #expect(CoreSettings.logFormat.read(config) == "text")
        try config.check()
    }

    @Test("environment variables and flags are checked too")
    func environmentAndFlagsChecked() async throws {
        let error = await #expect(throws: ConfigurationErrors.self) {
            try await PalisadeConfiguration.load(explicitFilePath: nil, flags: ["--database-max-conections", "3"],
                                                 environment: ["PALISADE_CONFIG": "/nonexistent/but/unused/when/missing/default", "PALISADE_DATABASE_STATEMENT_TIMEOUT": "soon"].filter { $0.key != "PALISADE_CONFIG" },
                                                 schema: CoreSettings.schema)
        }
        let sources = error?.errors.compactMap(\.source) ?? []
        #expect(sources.contains("environment variable PALISADE_DATABASE_STATEMENT_TIMEOUT"))
        #expect(sources.contains("flag --database-max-conections"))
    }

    @Test("values out of range are errors after reading, and the default is not silently used")
    func outOfRange() async throws {
        let path = try write("database:\n  maxConnections: 0\nlog:\n  format: xml\n")
        let config = try await PalisadeConfiguration.load(explicitFilePath: path, environment: [:], schema: CoreSettings.schema)
        _ = CoreSettings.databaseMaxConnections.read(config)
        _ = CoreSettings.logFormat.read(config)
        let error = #expect(throws: ConfigurationErrors.self) { try config.check() }
        #expect(Set(error?.errors.compactMap(\.key) ?? []) == ["database.maxConnections", "log.format"])
    }

    @Test("a named file that does not exist is an error; malformed YAML is an error naming the file")
    func missingAndMalformed() async throws {
        let missing = await #expect(throws: ConfigurationError.self) {
            try await PalisadeConfiguration.load(explicitFilePath: "/nonexistent/palisade.yaml", environment: [:], schema: CoreSettings.schema)
        }
        #expect(missing?.code == .fileMissing)
        let path = try write("database: [unclosed\n")
        let malformed = await #expect(throws: ConfigurationError.self) {
            try await PalisadeConfiguration.load(explicitFilePath: path, environment: [:], schema: CoreSettings.schema)
        }
        #expect(malformed?.code == .malformedFile)
        #expect(malformed?.source == path)
    }

    @Test("other services' sections are left to them")
    func foreignSections() async throws {
        let path = try write("keystore:\n  listen: 127.0.0.1:8462\ndatabase:\n  url: x\n")
        let config = try await PalisadeConfiguration.load(explicitFilePath: path, environment: [:], schema: CoreSettings.schema)
        #expect(CoreSettings.databaseURL.read(config) == "x")
    }

    @Test("setting names map to environment variables and flags")
    func names() {
        #expect(ConfigSchema.environmentName("database.maxConnections") == "PALISADE_DATABASE_MAX_CONNECTIONS")
        #expect(ConfigSchema.flagName("database.maxConnections") == "--database-max-connections")
    }

    @Test("durations need a unit", arguments: [("250ms", Duration.milliseconds(250)), ("30s", .seconds(30)), ("5m", .seconds(300)), ("2h", .seconds(7200)), ("1d", .seconds(86_400))])
    func durations(text: String, value: Duration) {
        #expect(ConfigDuration.parse(text) == value)
        #expect(ConfigDuration.format(value) == text)
    }

    @Test("durations without a unit or negative are refused", arguments: ["30", "-5s", "5 minutes", ""])
    func badDurations(text: String) {
        #expect(ConfigDuration.parse(text) == nil)
    }
}

@Suite("Migration files")
final class MigrationFileTests {
    /// This test's directories, removed when it ends.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-migrations-\(UUID().uuidString)")

    deinit { try? FileManager.default.removeItem(at: scratch) }

    func directory(_ files: [String: String]) throws -> String {
        let path = scratch.appendingPathComponent(String(UUID().uuidString.prefix(8))).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
        return path
    }

    @Test("a file that manages its own transaction is refused, wherever the statement is", arguments: [
        "-- comment\nBEGIN;\nCREATE TABLE t (v int);\nCOMMIT;",
        "CREATE TABLE t (v int); commit work;",
        "START TRANSACTION;\nCREATE TABLE t (v int);",
        "CREATE TABLE t (v int);\nEND;",
    ])
    func ownTransactionRefused(sql: String) throws {
        let path = try directory(["0001_x.sql": sql])
        #expect(throws: MigrationError.self) { try Migration.load(from: path) }
    }

    @Test("BEGIN and END inside function bodies and DO blocks are fine; the shipped Schemas load")
    func bodiesAllowed() throws {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND\n$$;\nDO $body$ BEGIN PERFORM 1; END $body$;"
        #expect(try Migration.load(from: directory(["0001_f.sql": sql])).count == 1)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = try Migration.load(from: root.appendingPathComponent("Schemas").path).map(\.version)
        let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Schemas").path).filter { $0.hasSuffix(".sql") }
        #expect(shipped.count == files.count && shipped == Array(1...files.count), "every file loads, numbered without gaps")
    }

    @Test("badly named files and duplicate versions are refused")
    func badNames() throws {
        #expect(throws: MigrationError.self) { try Migration.load(from: directory(["1_x.sql": "SELECT 1;"])) }
        #expect(throws: MigrationError.self) { try Migration.load(from: directory(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"])) }
    }
}
