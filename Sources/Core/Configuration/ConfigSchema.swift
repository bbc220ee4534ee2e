import Foundation
import Yams

/// Every setting one program knows, and the checks that hold each source of configuration against it.
public struct ConfigSchema: Sendable {
    public let settings: [any AnyConfigSetting]
    /// Top-level YAML sections that belong to other programs sharing the file: not checked here, not unknown.
    public let foreignSections: Set<String>

    public init(settings: [any AnyConfigSetting], foreignSections: Set<String> = []) {
        self.settings = settings
        self.foreignSections = foreignSections.subtracting(settings.map { String($0.key.split(separator: ".")[0]) })
    }

    func setting(_ key: String) -> (any AnyConfigSetting)? {
        settings.first { $0.key == key }
    }

    /// `database.maxConnections` → `PALISADE_DATABASE_MAX_CONNECTIONS`.
    public static func environmentName(_ key: String) -> String {
        PalisadeConfiguration.environmentPrefix + words(key).joined(separator: "_").uppercased()
    }

    /// `database.maxConnections` → `--database-max-connections`.
    public static func flagName(_ key: String) -> String {
        "--" + words(key).joined(separator: "-")
    }

    private static func words(_ key: String) -> [String] {
        key.split(separator: ".").flatMap { component -> [String] in
            var words: [String] = []
            var current = ""
            for character in component {
                if character.isUppercase, !current.isEmpty {
                    words.append(current)
                    current = ""
                }
                current.append(Character(character.lowercased()))
            }
            if !current.isEmpty { words.append(current) }
            return words
        }
    }

    // MARK: - YAML

    /// Unknown keys and values of the wrong type in a YAML document, each with its line.
    func validateYAML(_ text: String, source: String) throws -> [ConfigurationError] {
        guard let root = try Yams.compose(yaml: text) else { return [] }
        guard let mapping = root.mapping else {
            return [ConfigurationError(code: .malformedFile, source: source, message: "the top level must be a mapping of keys")]
        }
        var errors: [ConfigurationError] = []
        walk(mapping, path: [], source: source, errors: &errors)
        return errors
    }

    /// The leaf keys present in a YAML document.
    func yamlKeys(_ text: String) throws -> Set<String> {
        guard let mapping = try Yams.compose(yaml: text)?.mapping else { return [] }
        var keys: Set<String> = []
        func collect(_ mapping: Node.Mapping, _ path: [String]) {
            for (key, value) in mapping {
                let here = path + [key.string ?? ""]
                if let nested = value.mapping { collect(nested, here) } else { keys.insert(here.joined(separator: ".")) }
            }
        }
        collect(mapping, [])
        return keys
    }

    private func walk(_ mapping: Node.Mapping, path: [String], source: String, errors: inout [ConfigurationError]) {
        for (keyNode, value) in mapping {
            let name = keyNode.string ?? "?"
            let key = (path + [name]).joined(separator: ".")
            let where_ = "\(source), line \(keyNode.mark?.line ?? 0)"
            if path.isEmpty, foreignSections.contains(name) { continue }
            if let setting = setting(key) {
                if let problem = Self.typeProblem(value, kind: setting.kind) {
                    errors.append(ConfigurationError(code: .wrongType, key: key, source: where_, message: problem))
                }
            } else if settings.contains(where: { $0.key.hasPrefix(key + ".") }) {
                if let nested = value.mapping {
                    walk(nested, path: path + [name], source: source, errors: &errors)
                } else {
                    errors.append(ConfigurationError(code: .wrongType, key: key, source: where_, message: "expected a section of settings"))
                }
            } else {
                errors.append(ConfigurationError(code: .unknownKey, key: key, source: where_, message: "unknown key" + suggestion(for: key)))
            }
        }
    }

    private static func typeProblem(_ node: Node, kind: ConfigValueKind) -> String? {
        if kind == .stringList {
            guard let sequence = node.sequence else { return "expected a list of strings" }
            return sequence.allSatisfy { $0.scalar != nil } ? nil : "expected a list of strings"
        }
        guard let scalar = node.scalar else { return "expected a single \(kind.rawValue) value" }
        return textProblem(scalar.string, kind: kind, quoted: scalar.style != .plain && scalar.style != .any)
    }

    static func textProblem(_ text: String, kind: ConfigValueKind, quoted: Bool = false) -> String? {
        switch kind {
        case .string, .stringList:
            return nil
        case .int:
            return !quoted && Int(text) != nil ? nil : "expected a whole number, found \"\(text.prefix(40))\""
        case .double:
            return !quoted && Double(text) != nil ? nil : "expected a number, found \"\(text.prefix(40))\""
        case .bool:
            return !quoted && ["true", "false", "yes", "no", "on", "off"].contains(text.lowercased()) ? nil : "expected true or false, found \"\(text.prefix(40))\""
        case .duration:
            return ConfigDuration.parse(text) != nil ? nil : "expected a duration with a unit (250ms, 30s, 5m, 1h, 2d), found \"\(text.prefix(40))\""
        }
    }

    private func suggestion(for key: String) -> String {
        let lowered = key.lowercased().replacingOccurrences(of: "_", with: "")
        if let match = settings.first(where: { $0.key.lowercased() == lowered || $0.key.lowercased().replacingOccurrences(of: ".", with: "") == lowered.replacingOccurrences(of: ".", with: "") }) {
            return " (did you mean \(match.key)?)"
        }
        let close = settings.map(\.key).filter { Self.editDistance($0, key) <= 2 }
        return close.first.map { " (did you mean \($0)?)" } ?? ""
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    // MARK: - Environment and flags

    /// Wrong types in `PALISADE_*` variables of known settings.
    func validateEnvironment(_ environment: [String: String]) -> [ConfigurationError] {
        settings.compactMap { setting in
            let name = Self.environmentName(setting.key)
            guard let value = environment[name], let problem = Self.textProblem(value, kind: setting.kind) else { return nil }
            return ConfigurationError(code: .wrongType, key: setting.key, source: "environment variable \(name)", message: problem)
        }
    }

    /// Unknown setting flags and wrong types in known ones.
    func validateFlags(_ flags: [String]) -> [ConfigurationError] {
        var errors: [ConfigurationError] = []
        var index = 0
        while index < flags.count {
            let argument = flags[index]
            index += 1
            guard argument.hasPrefix("--") else { continue }
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard let setting = settings.first(where: { Self.flagName($0.key) == parts[0] }) else {
                errors.append(ConfigurationError(code: .unknownKey, source: "flag \(parts[0])", message: "no setting has this flag"))
                continue
            }
            var value: String?
            if parts.count == 2 {
                value = parts[1]
            } else if index < flags.count, !flags[index].hasPrefix("--") {
                value = flags[index]
                index += 1
            }
            if setting.kind == .bool && value == nil { continue }
            guard let value else {
                errors.append(ConfigurationError(code: .invalidValue, key: setting.key, source: "flag \(parts[0])", message: "needs a value"))
                continue
            }
            if let problem = Self.textProblem(value, kind: setting.kind) {
                errors.append(ConfigurationError(code: .wrongType, key: setting.key, source: "flag \(parts[0])", message: problem))
            }
        }
        return errors
    }
}
