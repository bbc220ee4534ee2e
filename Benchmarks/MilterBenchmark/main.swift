// The DMARC milter (`make bench-milter`): MESSAGES messages pushed through the milter protocol over TCP to an
// in-process MilterServer (no Postfix in the loop) by CONNECTIONS clients at once, each message the packets
// Postfix sends (connect, HELO, MAIL, header fields, body, end of message) and its replies read to the
// final one. Half are a DKIM-signed message that passes DMARC, half an unauthenticated one that p=reject
// refuses; SPF, DKIM and DMARC run for real against the test world's signed zones, with warm DNS (the
// resolver's answer cache filled by a first round that is not counted). Prints messages per second and the
// latency percentiles of one message. Benchmarks/run-milter.sh starts the world and signs the message.
//
//   MilterBenchmark WORLD_DIR SIGNED_MESSAGE MESSAGES CONNECTIONS
import Core
import CoreTestSupport
import DNS
import Foundation
import Logging
import MailPolicy
import NIOCore
import NIOPosix
import ServiceLifecycle
import TransportPolicy

let arguments = CommandLine.arguments
guard arguments.count == 5, let count = Int(arguments[3]), let connections = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: MilterBenchmark WORLD_DIR SIGNED_MESSAGE MESSAGES CONNECTIONS\n".utf8))
    exit(64)
}
setenv("PALISADE_TEST_WORLD", arguments[1], 1)
let logger = Logger(label: "palisade.bench")
let world = try TestWorld.current()
let resolver = try world.resolver(logger: logger)
let authenticator = MailAuthenticator(spf: SPFVerifier(resolver: resolver), dkim: DKIMVerifier(resolver: resolver),
                                      dmarc: DMARCEvaluator(resolver: resolver), configuration: try .init(authservID: "bench.example"))

/// The packets of one message as Postfix sends them.
func packets(_ text: String, mailFrom: String) -> [UInt8] {
    func packet(_ code: Character, _ data: [UInt8] = []) -> [UInt8] {
        let length = UInt32(data.count + 1)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), UInt8(ascii: code.unicodeScalars.first!)] + data
    }
    func z(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }
    let bytes = Array(text.utf8)
    var end = 0
    while end + 3 < bytes.count, bytes[end..<end + 4] != [13, 10, 13, 10] { end += 1 }
    var out = packet("C", z("client.example") + [UInt8(ascii: "4"), 0, 25] + z("127.0.0.1")) + packet("H", z("client.example"))
        + packet("M", z("<\(mailFrom)>"))
    var fields: [(String, String)] = []
    for line in String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n") {
        if line.first == " " || line.first == "\t", let last = fields.popLast() { fields.append((last.0, last.1 + "\r\n" + line)) }
        else if let colon = line.firstIndex(of: ":") { fields.append((String(line[..<colon]), String(line[line.index(after: colon)...]))) }
    }
    for (name, value) in fields { out += packet("L", z(name) + z(value)) }
    return out + packet("N") + packet("B", Array(bytes[min(end + 4, bytes.count)...])) + packet("E")
}

let signed = try String(contentsOfFile: arguments[2], encoding: .utf8)
let unsigned = "From: Alice <alice@dmarc.secure.palisade.example>\r\nTo: bob@example.org\r\nSubject: bench\r\n\r\nHello.\r\n"
let messages = [packets(signed, mailFrom: "bounce@spf-fail.secure.palisade.example"), packets(unsigned, mailFrom: "a@spf-fail.secure.palisade.example")]
let negotiation: [UInt8] = [0, 0, 0, 13, UInt8(ascii: "O"), 0, 0, 0, 6, 0, 0, 1, 0xFF, 0, 0x1F, 0xFF, 0xFF]

/// Sends `rounds` messages on one connection; the latency of each, in seconds.
func client(port: Int, rounds: Int, offset: Int) async throws -> [Double] {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await channel.executeThenClose { inbound, outbound in
        var iterator = inbound.makeAsyncIterator()
        var pending: [UInt8] = []
        /// Reads replies until a final one (accept, reply code, tempfail, reject); its code.
        func final() async throws -> UInt8 {
            while true {
                while pending.count >= 5 {
                    let length = Int(pending[0]) << 24 | Int(pending[1]) << 16 | Int(pending[2]) << 8 | Int(pending[3])
                    guard pending.count >= 4 + length else { break }
                    let code = pending[4]
                    pending.removeFirst(4 + length)
                    if [UInt8(ascii: "a"), UInt8(ascii: "y"), UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "O")].contains(code) { return code }
                }
                guard let chunk = try await iterator.next() else { throw CancellationError() }
                pending += chunk.readableBytesView
            }
        }
        try await outbound.write(ByteBuffer(bytes: negotiation))
        _ = try await final()
        var latencies: [Double] = []
        for round in 0..<rounds {
            let started = ContinuousClock.now
            try await outbound.write(ByteBuffer(bytes: messages[(round + offset) % 2]))
            let code = try await final()
            precondition(code == ((round + offset) % 2 == 0 ? UInt8(ascii: "a") : UInt8(ascii: "y")), "unexpected reply \(Character(UnicodeScalar(code)))")
            latencies.append((ContinuousClock.now - started).inSeconds)
        }
        return latencies
    }
}

let ports = AsyncStream<Int>.makeStream()
let server = MilterServer(host: "127.0.0.1", port: 0, authenticator: authenticator, maximumMessageSize: 64 << 20, aggregate: nil, logger: logger) { port in
    ports.continuation.yield(port ?? 0)
}
let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: logger)
try await withThrowingTaskGroup(of: Void.self) { tasks in
    tasks.addTask { try await group.run() }
    var iterator = ports.stream.makeAsyncIterator()
    guard let port = await iterator.next() else { return }
    // Warm the DNS answer cache: both messages once, not counted.
    _ = try await client(port: port, rounds: 2, offset: 0)
    let started = ContinuousClock.now
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { clients in
        for index in 0..<connections {
            clients.addTask { try await client(port: port, rounds: count / connections + (index < count % connections ? 1 : 0), offset: index) }
        }
        var all: [Double] = []
        for try await latencies in clients { all += latencies }
        return all
    }.sorted()
    let elapsed = (ContinuousClock.now - started).inSeconds
    func percentile(_ p: Double) -> String { String(format: "%.2f", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000) }
    print("milter messages=\(latencies.count) connections=\(connections) seconds=\(String(format: "%.2f", elapsed)) "
          + "messages_per_second=\(Int(Double(latencies.count) / elapsed)) p50_ms=\(percentile(0.5)) p90_ms=\(percentile(0.9)) p99_ms=\(percentile(0.99)) "
          + "max_ms=\(String(format: "%.2f", latencies.last! * 1000))")
    await group.triggerGracefulShutdown()
    tasks.cancelAll()
}
resolver.close()
