import Foundation
import Configuration

/// The value types a setting can have, with how each is checked in YAML and parsed from text.
public enum ConfigValueKind: String, Sendable {
    case string, int, double, bool, duration, stringList = "list of strings"
}

/// One documented configuration key: its name, type, default and meaning, in one place.
///
/// Code reads a value only through its setting, so the documentation printed by
/// `platformctl config check --keys` and the unknown-key check can never drift from what is read.
public protocol AnyConfigSetting: Sendable {
    /// Dotted camelCase key, e.g. `database.maxConnections`; YAML nests it, the environment spells it
    /// `PALISADE_DATABASE_MAX_CONNECTIONS`, the command line `--database-max-connections`.
    var key: String { get }
    var kind: ConfigValueKind { get }
    var summary: String { get }
    var isSecret: Bool { get }
    var defaultDescription: String { get }
}

/// A typed setting; `read` returns the value from the highest-priority source or the default.
public struct ConfigSetting<Value: Sendable>: AnyConfigSetting {
    public let key: String
    public let kind: ConfigValueKind
    public let summary: String
    public let isSecret: Bool
    public let defaultValue: Value
    let reader: @Sendable (ConfigReader, ConfigSetting<Value>) -> Value
    let validator: @Sendable (Value) -> String?

    public var defaultDescription: String {
        if isSecret { return "(secret)" }
        switch defaultValue {
        case let value as Duration: return ConfigDuration.format(value)
        case let value as [String]: return "[" + value.joined(separator: ", ") + "]"
        case let value as String: return value.isEmpty ? "\"\"" : value
        default: return "\(defaultValue)"
        }
    }

    /// Reads the value. Problems (wrong type, failed validation) are recorded by the reader's
    /// `ConfigProblemCollector` and reported together by `PalisadeConfiguration.check()`.
    public func read(_ config: PalisadeConfiguration) -> Value {
        let value = reader(config.reader, self)
        if let problem = validator(value) {
            config.problems.record(ConfigurationError(code: .invalidValue, key: key, message: problem))
            return defaultValue
        }
        return value
    }
}

extension ConfigSetting where Value == String {
    public static func string(_ key: String, default value: String, secret: Bool = false, _ summary: String,
                              validate: @escaping @Sendable (String) -> String? = { _ in nil }) -> Self {
        Self(key: key, kind: .string, summary: summary, isSecret: secret, defaultValue: value,
             reader: { $0.string(forKey: ConfigKey($1.key), isSecret: $1.isSecret, default: $1.defaultValue) },
             validator: validate)
    }
}

extension ConfigSetting where Value == Int {
    public static func int(_ key: String, default value: Int, _ summary: String, range: ClosedRange<Int>) -> Self {
        Self(key: key, kind: .int, summary: summary, isSecret: false, defaultValue: value,
             reader: { $0.int(forKey: ConfigKey($1.key), default: $1.defaultValue) },
             validator: { range.contains($0) ? nil : "\($0) is outside \(range.lowerBound)...\(range.upperBound)" })
    }
}

extension ConfigSetting where Value == Bool {
    public static func bool(_ key: String, default value: Bool, _ summary: String) -> Self {
        Self(key: key, kind: .bool, summary: summary, isSecret: false, defaultValue: value,
             reader: { $0.bool(forKey: ConfigKey($1.key), default: $1.defaultValue) },
             validator: { _ in nil })
    }
}

extension ConfigSetting where Value == [String] {
    /// `validate` sees the whole list and names the first bad element.
    public static func stringList(_ key: String, default value: [String], secret: Bool = false, _ summary: String,
                                  validate: @escaping @Sendable ([String]) -> String? = { _ in nil }) -> Self {
        Self(key: key, kind: .stringList, summary: summary, isSecret: secret, defaultValue: value,
             reader: { $0.stringArray(forKey: ConfigKey($1.key), isSecret: $1.isSecret, default: $1.defaultValue) },
             validator: validate)
    }
}

extension ConfigSetting where Value == Duration {
    /// Durations are written with a unit: `250ms`, `30s`, `5m`, `1h`, `2d`.
    public static func duration(_ key: String, default value: Duration, _ summary: String,
                                range: ClosedRange<Duration>) -> Self {
        Self(key: key, kind: .duration, summary: summary, isSecret: false, defaultValue: value,
             reader: { reader, setting in
                 guard let text = reader.string(forKey: ConfigKey(setting.key)) else { return setting.defaultValue }
                 return ConfigDuration.parse(text) ?? .zero - .seconds(1)
             },
             validator: { value in
                 if value < .zero { return "not a duration: write it with a unit, e.g. 250ms, 30s, 5m, 1h" }
                 return range.contains(value) ? nil : "\(ConfigDuration.format(value)) is outside \(ConfigDuration.format(range.lowerBound))...\(ConfigDuration.format(range.upperBound))"
             })
    }
}

/// The text form of durations in configuration.
public enum ConfigDuration {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Duration)] = [("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600)), ("d", .seconds(86_400))]
        for (suffix, unit) in units where trimmed.hasSuffix(suffix) {
            guard let number = Int(trimmed.dropLast(suffix.count)), number >= 0 else { return nil }
            return unit * number
        }
        return nil
    }

    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 86_400_000 == 0, ms > 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0, ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0, ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
