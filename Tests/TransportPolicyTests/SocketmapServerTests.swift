import Core
import CoreTestSupport
import Foundation
import MailPolicy
import ServiceLifecycle
import Synchronization
import Testing
import TransportPolicy

#if canImport(Glibc)
import Glibc
#endif

/// The socketmap listener, asked by Postfix's own client (`postmap -q … socketmap:…`) over TCP and a unix
/// socket, and by raw connections for the protocol's edges.
@Suite("Socketmap listener")
struct SocketmapServerTests {
    static let s = TransportWorld.secure

    /// Runs a listener for `body`, then shuts it down.
    static func withServer(_ world: TransportWorld, path: String? = nil, idleTimeout: Duration = .seconds(60), maxConnections: Int = 100,
                           _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let server = SocketmapServer(listen: .init(host: "127.0.0.1", port: 0, path: path), resolver: world.policyResolver(),
                                     idleTimeout: idleTimeout, maxConnections: maxConnections, logger: world.db.logger) { bound in
            port.yield(bound ?? 0)
        }
        let group = ServiceGroup(services: [server], logger: world.db.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let bound = try #require(await iterator.next())
            do {
                try await body(bound)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// `postmap -q KEY TABLE`: (exit status, standard output and error).
    static func postmap(_ key: String, _ table: String) async throws -> (Int32, String) {
        let (status, output) = try await ChildProcess.runReportingStatus("/usr/sbin/postmap", ["-q", key, table], includingStandardError: true)
        return (status, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("postmap -q gets each answer over TCP and over a unix socket")
    func postmapAnswers() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-socketmap-\(UUID().uuidString.prefix(8)).sock").path
        try await Self.withServer(world, path: path) { port in
            for table in ["socketmap:inet:127.0.0.1:\(port):postfix", "socketmap:unix:\(path):postfix"] {
                var result = try await Self.postmap("sts-enforce.\(Self.s)", table)
                #expect(result.0 == 0 && result.1 == "secure match=mx1.sts-enforce.\(Self.s) servername=hostname", "\(table): \(result.1)")
                result = try await Self.postmap("sts-dane.\(Self.s)", table)
                #expect(result.0 == 0 && result.1 == "dane-only", "\(table): \(result.1)")
                result = try await Self.postmap("sts-testing.\(Self.s)", table)
                #expect(result.0 == 1 && result.1 == "", "\(table): not found: \(result.1)")
                result = try await Self.postmap("[mx1.sts-enforce.\(Self.s)]:25", table)
                #expect(result.0 == 1 && result.1 == "", "\(table): \(result.1)")
                result = try await Self.postmap("expired.palisade.example", table)
                #expect(result.0 != 0 && result.1.contains("socketmap server temporary error: DANE: the MX look-up failed"), "\(table): \(result.1)")
            }
            let strict = try await Self.postmap("sts-testing.\(Self.s)", "socketmap:inet:127.0.0.1:\(port):strict")
            #expect(strict.1 == "secure match=mx.sts-testing.\(Self.s) servername=hostname")
            let unknown = try await Self.postmap("sts-testing.\(Self.s)", "socketmap:inet:127.0.0.1:\(port):nosuch")
            #expect(unknown.0 != 0 && unknown.1.contains("permanent error: unknown map name"), "\(unknown.1)")
        }
        #expect(!FileManager.default.fileExists(atPath: path), "the socket is removed at shutdown")
    }

    @Test("Every case of the README's table, asked by postmap: the same answers as the daemon's own tests expect")
    func postmapTable() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        try await Self.withServer(world) { port in
            for (key, profile, expected, _) in TransportAnswerTests.cases {
                let (status, output) = try await Self.postmap(key, "socketmap:inet:127.0.0.1:\(port):\(profile)")
                if expected.hasPrefix("OK ") {
                    #expect(status == 0 && output == String(expected.dropFirst(3)), "\(key) (\(profile)): \(output)")
                } else {
                    #expect(status == 1 && output.isEmpty, "\(key) (\(profile)): not found: \(output)")
                }
            }
            for key in ["lame.example.net", "sts-oversize.\(Self.s)", "sts-redirect.\(Self.s)", "sts-nomatch.\(Self.s)"] {
                let (status, output) = try await Self.postmap(key, "socketmap:inet:127.0.0.1:\(port):postfix")
                #expect(status != 0 && output.contains("socketmap server temporary error"), "\(key): \(output)")
            }
        }
    }

    @Test("Pipelined requests are answered in order; a bad request gets PERM and the connection goes on")
    func protocolEdges() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        try await Self.withServer(world) { port in
            let connection = try await blocking { try RawConnection(port: port) }
            defer { connection.close() }
            let first = "postfix sts-enforce.\(Self.s)", second = "postfix sts-dane.\(Self.s)"
            try connection.send("\(first.utf8.count):\(first),\(second.utf8.count):\(second),")
            #expect(try await blocking { try connection.receiveNetstring() } == "OK secure match=mx1.sts-enforce.\(Self.s) servername=hostname")
            #expect(try await blocking { try connection.receiveNetstring() } == "OK dane-only")
            try await blocking { try connection.send("5:hello,") }
            #expect(try await blocking { try connection.receiveNetstring() } == "PERM the request is not \"<name> <key>\"")
            try connection.send("\(first.utf8.count):\(first),")
            #expect(try await blocking { try connection.receiveNetstring() } == "OK secure match=mx1.sts-enforce.\(Self.s) servername=hostname")

            for garbage in ["hello", "99999:", "3:abc;"] {
                let broken = try await blocking { try RawConnection(port: port) }
                defer { broken.close() }
                try await blocking { try broken.send(garbage) }
                let reply = try await blocking { try broken.receiveNetstring() }
                #expect(reply.hasPrefix("PERM "), "\(garbage): \(reply)")
                #expect(try await blocking { try broken.isClosedByPeer() }, "\(garbage): the connection is closed after broken framing")
            }
        }
    }

    @Test("Many connections at once are all answered; past maxConnections a connection is closed at once")
    func concurrentConnections() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        try await Self.withServer(world, maxConnections: 40) { port in
            let request = "postfix sts-enforce.\(Self.s)"
            // Warm the cache, then 32 connections together.
            let warm = try await blocking { try RawConnection(port: port) }
            try warm.send("\(request.utf8.count):\(request),")
            _ = try await blocking { try warm.receiveNetstring() }
            warm.close()
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<32 {
                    group.addTask {
                        let connection = try await blocking { try RawConnection(port: port) }
                        defer { connection.close() }
                        for _ in 0..<10 {
                            try connection.send("\(request.utf8.count):\(request),")
                            _ = try await blocking { try connection.receiveNetstring() }
                        }
                        let line = "\(request.utf8.count):\(request),"
                        return try await blocking { try connection.receiveAfterSending(line) }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(answers.count == 32)
            #expect(Set(answers) == ["OK secure match=mx1.sts-enforce.\(Self.s) servername=hostname"])
        }
        try await Self.withServer(world, maxConnections: 2) { port in
            let a = try await blocking { try RawConnection(port: port) }, b = try await blocking { try RawConnection(port: port) }
            defer { a.close(); b.close() }
            let request = "postfix sts-enforce.\(Self.s)"
            let line = "\(request.utf8.count):\(request),"
            #expect(try await blocking { try a.receiveAfterSending(line) }.hasPrefix("OK "))
            #expect(try await blocking { try b.receiveAfterSending(line) }.hasPrefix("OK "))
            let c = try await blocking { try RawConnection(port: port) }
            defer { c.close() }
            #expect(try await blocking { try c.isClosedByPeer() }, "a third connection is closed")
        }
    }

    @Test("A silent connection is closed after the idle timeout")
    func idleTimeout() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        try await Self.withServer(world, idleTimeout: .seconds(1)) { port in
            let connection = try await blocking { try RawConnection(port: port) }
            defer { connection.close() }
            #expect(try await blocking { try connection.isClosedByPeer() })
        }
    }
}

/// Runs blocking socket calls on a thread of their own: never on Swift's cooperative pool, which the
/// listener's own tasks need.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// A blocking TCP connection to 127.0.0.1 for the protocol tests, each read bounded by 20 s; every call
/// goes through `blocking`.
final class RawConnection: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw TestSetupError("connect to 127.0.0.1:\(port) failed: errno \(errno)") }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw TestSetupError("send failed: errno \(errno)") }
    }

    func receiveAfterSending(_ text: String) throws -> String {
        try send(text)
        return try receiveNetstring()
    }

    /// One netstring's value, read byte by byte.
    func receiveNetstring() throws -> String {
        var length = 0
        while true {
            let byte = try receiveByte()
            if byte == UInt8(ascii: ":") { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw TestSetupError("not a netstring length: \(byte)") }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
        }
        var value: [UInt8] = []
        for _ in 0..<length { value.append(try receiveByte()) }
        guard try receiveByte() == UInt8(ascii: ",") else { throw TestSetupError("netstring without its comma") }
        return String(decoding: value, as: UTF8.self)
    }

    func receiveByte() throws -> UInt8 {
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, 0)
        guard count == 1 else { throw TestSetupError(count == 0 ? "the connection was closed" : "recv failed: errno \(errno)") }
        return byte
    }

    /// Whether the peer closes the connection (end of stream) before the read deadline.
    func isClosedByPeer() throws -> Bool {
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, 0)
        if count == 0 { return true }
        if count < 0, errno == ECONNRESET { return true }
        return false
    }

    func close() { Glibc.close(descriptor) }
}
