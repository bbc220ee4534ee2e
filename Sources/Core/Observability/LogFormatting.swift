import Foundation
import Logging
import Synchronization

/// Palisade's log output: one line per event on standard error, as text for journald or as JSON.
///
/// Text lines carry no timestamp (journald adds its own) and put metadata as sorted `key=value` pairs;
/// JSON lines carry an ISO 8601 timestamp, level, label, message and every metadata key.
public struct PalisadeLogHandler: LogHandler {
    public enum Format: String, Sendable { case text, json }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: Format
    let sink: LogSink

    public init(label: String, format: Format, level: Logger.Level, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        let line: String
        switch format {
        case .text:
            var text = "\(event.level.rawValue.uppercased()) \(label): \(event.message)"
            for key in merged.keys.sorted() {
                text += " \(key)=\(LogFormatting.quoteIfNeeded(merged[key]!.description))"
            }
            line = text
        case .json:
            var object: [String: Any] = [
                "time": LogFormatting.timestamp(Date()),
                "level": event.level.rawValue,
                "label": label,
                "message": event.message.description,
            ]
            for (key, value) in merged { object[key] = LogFormatting.json(value) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        sink.write(line + "\n")
    }
}

/// Where log lines go; tests capture them.
public final class LogSink: Sendable {
    private let lines = Mutex<[String]>([])
    private let isCapturing: Bool

    private init(capturing: Bool) {
        isCapturing = capturing
    }

    public static let standardError = LogSink(capturing: false)
    /// A sink that keeps lines in memory instead of printing them.
    public static func capturing() -> LogSink { LogSink(capturing: true) }

    public var captured: [String] { lines.withLock { $0 } }

    func write(_ line: String) {
        if isCapturing {
            lines.withLock { $0.append(line) }
        } else {
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

/// Process-wide logging set-up.
public enum LogFormatting {
    /// Installs Palisade's handler for every logger in the process. Call once, first thing in `main`.
    public static func bootstrap(format: PalisadeLogHandler.Format, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            PalisadeLogHandler(label: label, format: format, level: level)
        }
    }

    public static func level(_ name: String) -> Logger.Level? {
        Logger.Level(rawValue: name.lowercased())
    }

    static func quoteIfNeeded(_ value: String) -> String {
        if value.isEmpty { return "\"\"" }
        guard value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .array(let array): return array.map(json)
        case .dictionary(let dictionary): return dictionary.mapValues(json)
        }
    }

    static func timestamp(_ date: Date) -> String {
        PostgresTimestamp.format(date).replacingOccurrences(of: " ", with: "T").replacingOccurrences(of: "+00", with: "Z")
    }
}
