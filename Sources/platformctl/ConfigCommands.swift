import ArgumentParser
import Core
import Foundation

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the configuration.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the file, environment and flags against every documented setting and print the effective values.",
            discussion: "Unknown keys, wrong types and out-of-range values are reported with the key and where it came from (exit code 3)."
        )
        @OptionGroup var global: GlobalOptions
        @Flag(help: "List every setting with its type, default and meaning instead.") var keys = false

        func run() async throws {
            if keys { return try listKeys() }
            try await reporting {
                let configuration: PalisadeConfiguration
                do {
                    configuration = try await PalisadeConfiguration.load(explicitFilePath: global.config, flags: global.settingFlags, schema: PlatformSettings.schema)
                } catch {
                    throw Failure.configuration("\(error)")
                }
                let environment = ProcessInfo.processInfo.environment
                let values = PlatformSettings.all.map { setting -> EffectiveSetting in
                    EffectiveSetting(key: setting.key, value: setting.isSecret ? "(secret)" : effectiveValue(setting, configuration),
                                     source: configuration.source(of: setting, flags: global.settingFlags, environment: environment))
                }
                do {
                    try configuration.check()
                } catch {
                    throw Failure.configuration("\(error)")
                }
                if global.json {
                    return try Output.json(EffectiveConfiguration(file: configuration.filePath, settings: values))
                }
                print("configuration file: \(configuration.filePath ?? "none (defaults, environment and flags only)")")
                Output.table(["KEY", "VALUE", "FROM"], values.map { [$0.key, $0.value, $0.source] })
                print("configuration is valid")
            }
        }

        private func effectiveValue(_ setting: any AnyConfigSetting, _ configuration: PalisadeConfiguration) -> String {
            switch setting {
            case let s as ConfigSetting<String>: s.read(configuration)
            case let s as ConfigSetting<Int>: String(s.read(configuration))
            case let s as ConfigSetting<Bool>: String(s.read(configuration))
            case let s as ConfigSetting<Duration>: ConfigDuration.format(s.read(configuration))
            case let s as ConfigSetting<[String]>: s.read(configuration).joined(separator: ",")
            default: "?"
            }
        }

        private func listKeys() throws {
            struct KeyDoc: Encodable { let key, type, defaultValue, environment, flag, summary: String }
            let docs = PlatformSettings.all.map {
                KeyDoc(key: $0.key, type: $0.kind.rawValue, defaultValue: $0.defaultDescription,
                       environment: ConfigSchema.environmentName($0.key), flag: ConfigSchema.flagName($0.key), summary: $0.summary)
            }
            if global.json { return try Output.json(docs) }
            for doc in docs {
                print("\(doc.key) (\(doc.type), default \(doc.defaultValue))\n    \(doc.environment), \(doc.flag)\n    \(doc.summary)")
            }
        }
    }
}

struct EffectiveSetting: Encodable {
    let key: String
    let value: String
    let source: String
}

struct EffectiveConfiguration: Encodable {
    let file: String?
    let settings: [EffectiveSetting]
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print platformctl's version.")
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if json {
            try Output.json(["version": PalisadeVersion.current])
        } else {
            print("platformctl \(PalisadeVersion.current)")
        }
    }
}
