import CoreTestSupport
import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import WKDPublishing

/// One connection's handling (`WKDHTTPHandler`) on NIO's embedded channel, where each read and the
/// client's reading of answers are in the test's hands.
@Suite("WKD publisher connections")
struct WKDConnectionTests {
    static let policy = "GET /.well-known/openpgpkey/policy HTTP/1.1\r\nHost: example.org\r\n\r\n"

    /// A connection to the handler over `world`'s entries.
    func connection(_ world: WKDWorld) async throws -> EmbeddedChannel {
        try await world.refreshAll()
        let content = WKDContent()
        try await content.reloadAll(from: world.wkdPool)
        let channel = EmbeddedChannel(handler: WKDHTTPHandler(content: content, health: nil))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8464)).get()
        return channel
    }

    /// `text` read by the handler as one read.
    func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Everything written to the client since the last call.
    func answers(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    /// The status lines (a 404's body, "not found\n", runs into the next answer's status line).
    func statuses(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map(String.init).filter { $0.hasPrefix("HTTP/1.1 ") }
    }

    @Test("A head split over several reads is answered once complete; what follows an answered request waits for its own end")
    func splitHeads() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let channel = try await connection(world)
        defer { _ = try? channel.finish() }
        try send(channel, "GET /.well-known/openpgpkey/policy HT")
        #expect(try answers(channel) == "")
        try send(channel, "TP/1.1\r\nHost: exam")
        #expect(try answers(channel) == "")
        try send(channel, "ple.org\r\n\r\nGET /nothing")
        #expect(statuses(try answers(channel)) == ["HTTP/1.1 200 OK"])
        try send(channel, " HTTP/1.1\r\nHost: example.org\r\n\r")
        #expect(try answers(channel) == "")
        try send(channel, "\n")
        #expect(statuses(try answers(channel)) == ["HTTP/1.1 404 Not Found"])
        #expect(channel.isActive)
    }

    @Test("After a refusal nothing more is answered: a body is not taken for the next request")
    func nothingAfterRefusal() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let channel = try await connection(world)
        defer { _ = try? channel.finish() }
        try send(channel, "GET /x HTTP/1.1\r\nHost: example.org\r\nContent-Length: \(Self.policy.utf8.count)\r\n\r\n" + Self.policy)
        let refused = try answers(channel)
        #expect(statuses(refused) == ["HTTP/1.1 413 Content Too Large"])
        #expect(refused.contains("\r\nConnection: close\r\n"))
        try? send(channel, Self.policy)
        #expect(try answers(channel) == "")
    }

    @Test("Heads over the limits: 414 for a request line alone that long, 431 for the fields")
    func limits() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let long = try await connection(world)
        try send(long, "GET /" + String(repeating: "a", count: WKDRequestHead.maximumSize))
        #expect(statuses(try answers(long)) == ["HTTP/1.1 414 URI Too Long"])
        _ = try? long.finish()
        let fields = try await connection(world)
        try send(fields, "GET / HTTP/1.1\r\nHost: example.org\r\nCookie: " + String(repeating: "a", count: WKDRequestHead.maximumSize))
        #expect(statuses(try answers(fields)) == ["HTTP/1.1 431 Request Header Fields Too Large"])
        _ = try? fields.finish()
    }

    @Test("A client that does not read its answers is not read from: requests wait until it does, then are answered in order")
    func backpressure() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let channel = try await connection(world)
        defer { _ = try? channel.finish() }
        channel.isWritable = false
        try send(channel, Self.policy + "GET /nothing HTTP/1.1\r\nHost: example.org\r\n\r\n")
        try send(channel, Self.policy)
        #expect(try answers(channel) == "")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let answered = try answers(channel)
        #expect(statuses(answered) == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"], "\(answered)")
    }

    @Test("HTTP/1.0: the connection is kept only when asked, and the answer says so")
    func http10() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let kept = try await connection(world)
        try send(kept, "GET /.well-known/openpgpkey/policy HTTP/1.0\r\nHost: example.org\r\nConnection: keep-alive\r\n\r\n")
        let answer = try answers(kept)
        #expect(statuses(answer) == ["HTTP/1.1 200 OK"] && answer.contains("\r\nConnection: keep-alive\r\n"))
        #expect(kept.isActive)
        _ = try? kept.finish()
        let closed = try await connection(world)
        try send(closed, "GET /.well-known/openpgpkey/policy HTTP/1.0\r\nHost: example.org\r\n\r\n")
        #expect(try answers(closed).contains("\r\nConnection: close\r\n"))
        _ = try? closed.finish()
    }
}
