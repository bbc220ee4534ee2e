import Synchronization
import Configuration
import Foundation
import SystemPackage
import Yams

/// The settings every Palisade process reads: one YAML file, overridden by `PALISADE_*` environment
/// variables, overridden by command-line flags, over the defaults written beside each setting.
///
/// Loading checks every source against the documented settings first, so a misspelt key, a flag nobody
/// reads or a value of the wrong type is an error naming the key and where it came from, instead of a
/// default silently taking its place.
public final class PalisadeConfiguration: Sendable {
    /// Where the file is looked for when neither `--config` nor `PALISADE_CONFIG` names one.
    public static let defaultFilePath = "/etc/palisade/palisade.yaml"
    /// Environment variables for settings start with this, e.g. `PALISADE_DATABASE_URL`.
    public static let environmentPrefix = "PALISADE_"

    public let reader: ConfigReader
    /// The YAML file that was read, or nil when there was none.
    public let filePath: String?
    public let schema: ConfigSchema
    let problems: ConfigProblemCollector

    /// Loads and checks the configuration.
    /// - Parameters:
    ///   - explicitFilePath: `--config`; it must exist. When nil, `PALISADE_CONFIG` or the default path is
    ///     used, and a missing default file just means "no file".
    ///   - flags: setting flags such as `--database-url URL` (the command's own options removed).
    public static func load(
        explicitFilePath: String?,
        flags: [String] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        schema: ConfigSchema
    ) async throws -> PalisadeConfiguration {
        var errors: [ConfigurationError] = []
        let requested = explicitFilePath ?? environment["PALISADE_CONFIG"]
        let path = requested ?? defaultFilePath
        var fileProvider: FileProvider<YAMLSnapshot>?
        var usedPath: String?
        if FileManager.default.fileExists(atPath: path) {
            do {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                guard text.utf8.count <= 1 << 20 else {
                    throw ConfigurationError(code: .malformedFile, source: path, message: "the file is larger than 1 MiB")
                }
                errors += try schema.validateYAML(text, source: path)
                if errors.isEmpty, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    fileProvider = try await FileProvider<YAMLSnapshot>(filePath: FilePath(path))
                }
                usedPath = path
            } catch let error as ConfigurationError {
                throw error
            } catch let error as YamlError {
                throw ConfigurationError(code: .malformedFile, source: path, message: "not valid YAML: \(error)")
            } catch {
                throw ConfigurationError(code: .fileUnreadable, source: path, message: "cannot be read: \(error)")
            }
        } else if requested != nil {
            throw ConfigurationError(code: .fileMissing, source: path, message: "the configuration file does not exist")
        }
        errors += schema.validateEnvironment(environment)
        errors += schema.validateFlags(flags)
        guard errors.isEmpty else { throw ConfigurationErrors(errors: errors) }

        let problems = ConfigProblemCollector()
        var providers: [any ConfigProvider] = [
            CommandLineArgumentsProvider(arguments: ["palisade"] + flags),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "palisade"),
        ]
        if let fileProvider { providers.append(fileProvider) }
        let reader = ConfigReader(providers: providers, accessReporter: problems)
        return PalisadeConfiguration(reader: reader, filePath: usedPath, schema: schema, problems: problems)
    }

    init(reader: ConfigReader, filePath: String?, schema: ConfigSchema, problems: ConfigProblemCollector) {
        self.reader = reader
        self.filePath = filePath
        self.schema = schema
        self.problems = problems
    }

    /// Throws every problem met while reading settings so far (wrong types, values out of range).
    public func check() throws {
        let found = problems.drain()
        if !found.isEmpty { throw ConfigurationErrors(errors: found) }
    }

    /// Where a key's effective value comes from, for `platformctl config check`.
    public func source(of setting: any AnyConfigSetting, flags: [String], environment: [String: String]) -> String {
        if flags.contains(where: { $0 == ConfigSchema.flagName(setting.key) || $0.hasPrefix(ConfigSchema.flagName(setting.key) + "=") }) {
            return "flag"
        }
        if environment[ConfigSchema.environmentName(setting.key)] != nil { return "environment" }
        if let filePath, (try? schema.yamlKeys(String(contentsOfFile: filePath, encoding: .utf8)))?.contains(setting.key) == true {
            return "file"
        }
        return "default"
    }
}

/// Records the problems swift-configuration reports while values are read, which it otherwise answers
/// with the default.
final class ConfigProblemCollector: AccessReporter, Sendable {
    private let found = Mutex<[ConfigurationError]>([])

    func report(_ event: AccessEvent) {
        var new: [ConfigurationError] = []
        for result in event.providerResults {
            if case .failure(let error) = result.result {
                new.append(ConfigurationError(code: .wrongType, key: event.metadata.key.description, source: result.providerName, message: "\(error)"))
            }
        }
        if let error = event.conversionError {
            new.append(ConfigurationError(code: .wrongType, key: event.metadata.key.description, message: "\(error)"))
        }
        if !new.isEmpty { found.withLock { $0 += new } }
    }

    func record(_ problem: ConfigurationError) {
        found.withLock { $0.append(problem) }
    }

    func drain() -> [ConfigurationError] {
        found.withLock { problems in
            defer { problems.removeAll() }
            return problems
        }
    }
}
