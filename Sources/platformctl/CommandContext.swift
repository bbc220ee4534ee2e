import Aliases
import KeyDiscovery
import WKDPublishing
import Keystore
import ArgumentParser
import Core
import Foundation
import Logging

/// What a command needs once configuration is loaded: the settings, a logger and a database pool.
struct CommandContext {
    let configuration: PalisadeConfiguration
    let logger: Logger
    let pool: PostgresPool

    static func make(_ options: GlobalOptions) async throws -> CommandContext {
        let configuration: PalisadeConfiguration
        do {
            configuration = try await PalisadeConfiguration.load(explicitFilePath: options.config, flags: options.settingFlags, schema: PlatformSettings.schema)
        } catch {
            throw Failure.configuration("\(error)")
        }
        let level = LogFormatting.level(CoreSettings.logLevel.read(configuration)) ?? .info
        let format = PalisadeLogHandler.Format(rawValue: CoreSettings.logFormat.read(configuration)) ?? .text
        LogFormatting.bootstrap(format: format, level: level)
        let database = PostgresConfiguration(configuration, applicationName: "platformctl")
        do {
            try configuration.check()
        } catch {
            throw Failure.configuration("\(error)")
        }
        let pool = PostgresPool(configuration: PostgresConfiguration(
            conninfo: database.conninfo, applicationName: database.applicationName, maxConnections: 2,
            statementTimeout: database.statementTimeout, acquireTimeout: database.acquireTimeout, reconnectWindow: .zero
        ), logger: Logger(label: "palisade.platformctl"))
        return CommandContext(configuration: configuration, logger: Logger(label: "palisade.platformctl"), pool: pool)
    }
}

extension CommandContext {
    /// Loads configuration, opens the pool, runs `body`, closes the pool, and turns failures into their
    /// message and exit code: the frame of every command that talks to the database.
    static func run(_ options: GlobalOptions, _ body: (CommandContext) async throws -> Void) async throws {
        try await reporting {
            let context = try await make(options)
            defer { context.pool.close() }
            try await body(context)
        }
    }

    /// The directory of migrations: `--schemas`, else the configured or default one.
    func schemasDirectory(_ explicit: String?) -> String {
        explicit ?? Migration.defaultDirectory(configured: CoreSettings.migrationsDirectory.read(configuration))
    }
}

/// A failure with the exit code that tells scripts what kind it was.
enum Failure: Error, CustomStringConvertible {
    case configuration(String)
    case database(String)
    case refused(String)
    case migrationsOutOfStep(String)

    var description: String {
        switch self {
        case .configuration(let message): "configuration error:\n\(message)"
        case .database(let message): "database error: \(message)"
        case .refused(let message): message
        case .migrationsOutOfStep(let message): message
        }
    }

    var exitCode: ExitCode {
        switch self {
        case .configuration: ExitCode(3)
        case .database: ExitCode(4)
        case .refused: ExitCode(5)
        case .migrationsOutOfStep: ExitCode(6)
        }
    }
}

/// Runs a command body, turning known failures into their message on stderr and their exit code.
func reporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as Failure {
        FileHandle.standardError.write(Data("platformctl: \(failure)\n".utf8))
        throw failure.exitCode
    } catch let refusal as AliasError {
        FileHandle.standardError.write(Data("platformctl: \(refusal.code): \(refusal.message)\n".utf8))
        throw ExitCode(5)
    } catch let refusal as KeystoreError {
        FileHandle.standardError.write(Data("platformctl: \(refusal.code): \(refusal.message)\n".utf8))
        throw ExitCode(5)
    } catch let refusal as WKDServiceDomains.Refusal {
        FileHandle.standardError.write(Data("platformctl: \(refusal.code): \(refusal.message)\n".utf8))
        throw ExitCode(5)
    } catch let refusal as KeyLookupError {
        let code = switch refusal {
        case .invalidAddress: "invalid_address"
        case .invalidFingerprint: "invalid_fingerprint"
        case .keyNotFound: "key_not_found"
        case .lookupFailed: "lookup_failed"
        }
        FileHandle.standardError.write(Data("platformctl: \(code): \(refusal)\n".utf8))
        throw ExitCode(5)
    } catch let error as PostgresError where error.isConnectionProblem {
        FileHandle.standardError.write(Data("platformctl: cannot reach PostgreSQL: \(error.message)\n".utf8))
        throw ExitCode(4)
    } catch let error as PostgresError {
        FileHandle.standardError.write(Data("platformctl: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
