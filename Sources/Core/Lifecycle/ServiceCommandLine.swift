import Foundation
import Logging

/// How every Palisade service starts: `palisade-<name> [--config FILE] [--<setting> VALUE]…`.
///
/// Loads and checks the configuration against Core's settings plus the service's own, installs logging
/// (`log.format`, `log.level`) and the Prometheus metrics backend, and exits with status 78 (EX_CONFIG,
/// which a unit can name in `RestartPreventExitStatus=`) on a configuration error, naming every bad key.
public enum ServiceCommandLine {
    public static let configurationErrorStatus: Int32 = 78

    public static func start(
        program: String, settings: [any AnyConfigSetting], arguments: [String] = Array(CommandLine.arguments.dropFirst())
    ) async -> (PalisadeConfiguration, Logger) {
        var explicitFile: String?
        var flags: [String] = []
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--help", "-h":
                print(usage(program: program, settings: settings))
                exit(0)
            case "--version":
                print("\(program) \(PalisadeVersion.current)")
                exit(0)
            case "--config":
                guard let path = remaining.popFirst() else { fail(program, "--config needs a file path") }
                explicitFile = path
            default:
                flags.append(argument)
            }
        }
        let configuration: PalisadeConfiguration
        do {
            configuration = try await PalisadeConfiguration.load(explicitFilePath: explicitFile, flags: flags, schema: CoreSettings.schema(adding: settings))
        } catch {
            fail(program, "configuration error:\n\(error)")
        }
        let level = LogFormatting.level(CoreSettings.logLevel.read(configuration)) ?? .info
        let format = PalisadeLogHandler.Format(rawValue: CoreSettings.logFormat.read(configuration)) ?? .text
        checked(configuration, program: program)
        LogFormatting.bootstrap(format: format, level: level)
        MetricsExposition.bootstrap()
        return (configuration, Logger(label: "palisade.\(program.replacingOccurrences(of: "palisade-", with: ""))"))
    }

    /// Exits with the configuration error status if reading a setting found a problem.
    public static func checked(_ configuration: PalisadeConfiguration, program: String) {
        do {
            try configuration.check()
        } catch {
            fail(program, "configuration error:\n\(error)")
        }
    }

    public static func fail(_ program: String, _ message: String) -> Never {
        FileHandle.standardError.write(Data("\(program): \(message)\n".utf8))
        exit(configurationErrorStatus)
    }

    static func usage(program: String, settings: [any AnyConfigSetting]) -> String {
        var text = """
            usage: \(program) [--config FILE] [--SETTING VALUE]…
            Settings come from the YAML file (--config, $PALISADE_CONFIG or \(PalisadeConfiguration.defaultFilePath)),
            PALISADE_* environment variables and flags, flags winning. This service's own settings:

            """
        for setting in settings {
            text += "  \(ConfigSchema.flagName(setting.key)) (\(setting.key), default \(setting.defaultDescription))\n      \(setting.summary)\n"
        }
        return text + "Core's settings (database.*, log.*, jobs.*): platformctl config check --keys."
    }
}
