import Synchronization
import Foundation

/// Runs helper programs from tests without `Process.waitUntilExit`, which can hang when called from
/// Swift's concurrency pool on Linux; output goes to a file, since a server started by the child may
/// keep a pipe open long after the child exits.
public enum ChildProcess {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `executable arguments…` to completion and returns its standard output; a non-zero exit throws.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let (status, output) = try await runReportingStatus(executable, arguments)
        guard status == 0 else {
            throw Failed(description: "\(executable) \(arguments.joined(separator: " ")) exited with \(status)")
        }
        return output
    }

    /// Runs `executable arguments…` to completion and returns its exit status and standard output
    /// (followed by standard error when `includingStandardError`).
    public static func runReportingStatus(_ executable: String, _ arguments: [String],
                                          environment: [String: String]? = nil,
                                          includingStandardError: Bool = false) async throws -> (status: Int32, output: String) {
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-child-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let handle = try FileHandle(forWritingTo: outputFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardInput = FileHandle.nullDevice
        process.standardError = includingStandardError ? handle : FileHandle.nullDevice
        if let environment { process.environment = environment }
        let status = try await exitStatus(of: process)
        try handle.close()
        return (status, try String(contentsOf: outputFile, encoding: .utf8))
    }

    /// Starts `process` and waits for it to end; returns its termination status.
    public static func exitStatus(of process: Process) async throws -> Int32 {
        try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }

    /// Waits for an already running process to end.
    public static func waitForExit(_ process: Process) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(continuation)
            process.terminationHandler = { _ in once.resume() }
            if !process.isRunning { once.resume() }
        }
    }
}

/// Resumes a continuation at most once, from whichever of two paths gets there first.
final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>

    init(_ continuation: CheckedContinuation<Void, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume() {
        continuation.withLock { pending in
            pending?.resume()
            pending = nil
        }
    }
}

extension ChildProcess {
    /// Runs a built Palisade executable (`.build/debug/NAME`) with no PALISADE_* variables from the test's
    /// environment; returns its exit status and standard output followed by standard error.
    public static func runBuilt(_ name: String, _ arguments: [String], environment extra: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PALISADE_") && $0.key != "SUDO_USER" }
        environment.merge(extra) { $1 }
        let binary = TestDatabase.repositoryRoot.appendingPathComponent(".build/debug/\(name)").path
        return try await runReportingStatus(binary, arguments, environment: environment, includingStandardError: true)
    }
}

/// A built Palisade service (`.build/debug/NAME`) running in the background as systemd would run it,
/// connected as one database role, its standard output and error in a log file the test reads.
public final class RunningService: Sendable {
    public let process: Process
    public let log: URL

    /// Starts `name` with `arguments`, `PALISADE_DATABASE_URL` set to `databaseURL` and no other PALISADE_*
    /// variable from the test's environment.
    public init(_ name: String, _ arguments: [String], databaseURL: String) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-\(name)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        process = Process()
        process.executableURL = TestDatabase.repositoryRoot.appendingPathComponent(".build/debug/\(name)")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PALISADE_") }
        environment["PALISADE_DATABASE_URL"] = databaseURL
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// What it has logged so far.
    public var logged: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The port logged as `key=N` (e.g. `http.port`) on the first "listening" line that also contains every
    /// one of `markers` (e.g. `http.tls=true`); nil until such a line is logged.
    public func loggedPort(_ key: String, markers: [String] = []) -> Int? {
        logged.split(separator: "\n").lazy
            .filter { line in line.contains("listening") && markers.allSatisfy { line.contains($0) } }
            .compactMap { line in line.split(separator: " ").first { $0.hasPrefix("\(key)=") }.flatMap { Int($0.dropFirst(key.count + 1)) } }
            .first
    }

    /// Waits for `loggedPort`; throws with the log if the service ends first or never logs it.
    public func listeningPort(_ key: String, markers: [String] = [], in db: TestDatabase) async throws -> Int {
        var port: Int?
        try await db.eventually("\(process.executableURL?.lastPathComponent ?? "the service") logs \(key)") {
            port = loggedPort(key, markers: markers)
            return port != nil || !process.isRunning
        }
        guard let port else { throw TestSetupError("no \(key) logged:\n\(logged)") }
        return port
    }

    /// Ends it if it still runs and removes the log.
    public func stop() {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: log)
    }
}
