import Core
import Foundation
import Glibc
import Logging
import Metrics
import Testing

@Suite("Queries keep values out of SQL")
struct PostgresQueryTests {
    @Test("interpolated values become numbered parameters")
    func interpolation() {
        let name = "x'; DROP TABLE jobs; --"
        let limit = 5
        let query: PostgresQuery = "SELECT * FROM jobs WHERE kind = \(name) LIMIT \(limit)"
        #expect(query.sql == "SELECT * FROM jobs WHERE kind = $1 LIMIT $2")
        #expect(query.parameters == [name, "5"])
        #expect(query.description == query.sql)
    }

    @Test("arrays are quoted element by element, NULLs stay NULL")
    func arrays() {
        #expect(PostgresArray(["a", "b\"c", "d\\e", "{,}"]).postgresText == #"{"a","b\"c","d\\e","{,}"}"#)
        #expect(PostgresArray(optionals: ["a", nil]).postgresText == #"{"a",NULL}"#)
    }
}

@Suite("Retry back-off")
struct RetryPolicyTests {
    @Test("doubles per attempt, stays within 50-100 % of the step, and is capped")
    func backoff() {
        let policy = RetryPolicy(base: .seconds(2), maximum: .seconds(60))
        #expect(policy.delay(afterAttempt: 1, random: 1) == .seconds(2))
        #expect(policy.delay(afterAttempt: 2, random: 1) == .seconds(4))
        #expect(policy.delay(afterAttempt: 3, random: 0.5) == .seconds(4))
        #expect(policy.delay(afterAttempt: 10, random: 1) == .seconds(60))
        #expect(policy.delay(afterAttempt: 1_000, random: 1) == .seconds(60))
        for attempt in 1...8 {
            let delay = policy.delay(afterAttempt: attempt)
            let step = min(Duration.seconds(2) * (1 << (attempt - 1)), .seconds(60))
            #expect(delay >= step * 0.5 && delay <= step)
        }
    }
}

@Suite("systemd notify protocol")
struct SystemdNotifierTests {
    @Test("READY=1, WATCHDOG=1 and STOPPING=1 reach the socket in $NOTIFY_SOCKET; the watchdog runs at half of WATCHDOG_USEC")
    func notifies() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000"])
        #expect(notifier.watchdogInterval == .milliseconds(1500))
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = recv(fd, &buffer, buffer.count, 0)
            return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
        }
        notifier.ready(status: "running")
        #expect(receive() == "READY=1\nSTATUS=running")
        notifier.watchdog()
        #expect(receive() == "WATCHDOG=1")
        notifier.stopping()
        #expect(receive() == "STOPPING=1")
    }

    @Test("without $NOTIFY_SOCKET nothing is sent, and a watchdog for another PID is ignored")
    func inactive() {
        #expect(!SystemdNotifier(environment: [:]).send(["READY=1"]))
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
    }
}

@Suite("Log lines")
struct LogFormattingTests {
    @Test("text lines carry level, label, message and sorted metadata; JSON lines are valid JSON")
    func formats() throws {
        let sink = LogSink.capturing()
        var text = Logger(label: "palisade.test") { PalisadeLogHandler(label: $0, format: .text, level: .info, sink: sink) }
        text[metadataKey: "job.queue"] = "wkd"
        text.info("claimed", metadata: ["job.id": "7", "note": "two words"])
        text.debug("not shown")
        var json = Logger(label: "palisade.test") { PalisadeLogHandler(label: $0, format: .json, level: .info, sink: sink) }
        json[metadataKey: "domain"] = "example.org"
        json.warning("policy \"changed\"")
        let lines = sink.captured
        #expect(lines.count == 2)
        #expect(lines[0] == "INFO palisade.test: claimed job.id=7 job.queue=wkd note=\"two words\"\n")
        let object = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        #expect(object?["message"] as? String == "policy \"changed\"")
        #expect(object?["level"] as? String == "warning")
        #expect(object?["domain"] as? String == "example.org")
        #expect((object?["time"] as? String)?.hasSuffix("Z") == true)
    }
}

@Suite("Prometheus exposition")
struct MetricsExpositionTests {
    @Test("metrics recorded through swift-metrics appear in the exposition text")
    func exposition() {
        MetricsExposition.bootstrap()
        Metrics.Counter(label: "palisade_test_exposed_total", dimensions: [("queue", "wkd")]).increment(by: 3)
        let text = MetricsExposition.render()
        #expect(text.contains(#"palisade_test_exposed_total{queue="wkd"} 3"#))
        #expect(MetricsExposition.bootstrap() === MetricsExposition.bootstrap())
    }
}

@Suite("UUID text form")
struct UUIDTextTests {
    @Test("round trips through PostgreSQL's text form, matching Foundation's")
    func roundTrip() {
        for _ in 0..<100 {
            let id = UUID()
            #expect(id.postgresText == id.uuidString.lowercased())
            #expect(UUID(postgresText: id.uuidString.lowercased()) == id)
            #expect(UUID(postgresText: id.uuidString) == id)
        }
    }

    @Test("malformed UUIDs are refused", arguments: ["", "0", "8b0e0d0c-6a4e-4c56-9d6e-1f2a3b4c5d6", "8b0e0d0c-6a4e-4c56-9d6e-1f2a3b4c5d6e0",
                                                    "8b0e0d0c6a4e-4c56-9d6e-1f2a3b4c5d6e", "zb0e0d0c-6a4e-4c56-9d6e-1f2a3b4c5d6e"])
    func refused(text: String) {
        #expect(UUID(postgresText: text) == nil)
    }
}
