// The transport daemon's socketmap look-ups, measured from outside as Postfix asks them: one request at a
// time per connection, over 1 and 16 connections, for cached answers of 1,000 domains.
//
//   TransportBenchmark prefill DATABASE_URL DOMAINS     put DOMAINS enforce policies in transport_policies
//   TransportBenchmark measure PORT MAP DOMAINS CONNECTIONS REQUESTS
//                                                      prints look-ups per second and p50/p99/max latency
// Benchmarks/run-transport.sh runs it against palisade-transport and postfix-mta-sts-resolver in one run.
import Core
import Foundation
import Logging
import MailPolicy
import NIOCore
import NIOPosix
import TransportPolicy

let arguments = CommandLine.arguments
func usage() -> Never {
    FileHandle.standardError.write(Data("usage: TransportBenchmark prefill URL DOMAINS | measure PORT MAP DOMAINS CONNECTIONS REQUESTS\n".utf8))
    exit(64)
}
guard arguments.count >= 2 else { usage() }

/// The benchmark's destination domains: d1.bench.example …
func domain(_ index: Int) -> String { "d\(index).bench.example" }

switch arguments[1] {
case "prefill":
    guard arguments.count == 4, let count = Int(arguments[3]) else { usage() }
    let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: arguments[2], maxConnections: 4), logger: Logger(label: "bench"))
    defer { pool.close() }
    let store = TransportPolicyStore(pool: pool)
    let now = Date()
    let later = now.addingTimeInterval(86_400)
    for index in 1...count {
        let name = domain(index)
        let policy = MTASTSPolicy(mode: .enforce, mx: [try MXPattern("mx1.\(name)"), try MXPattern("*.\(name)")], maxAge: 86_400)
        let entry = TransportPolicyEntry(
            domain: name,
            sts: MTASTSState(policy: policy, policyID: "bench1", fetchedAt: now, expiresAt: later, lastCheck: .policy, checkedAt: now, nextCheckAt: later),
            dane: DANEState(result: DANEResult(status: .none, mxHosts: ["mx1.\(name)", "mx2.\(name)"], mxSecure: false, daneHosts: [],
                                               reason: "the MX RRset is insecure, not secure: no DANE", ttl: 3600),
                            checkedAt: now, validUntil: later, nextCheckAt: later))
        try await store.save(entry)
    }
    print("prefilled \(count) domains")

case "measure":
    guard arguments.count == 7, let port = Int(arguments[2]), let count = Int(arguments[4]), let connections = Int(arguments[5]),
          let requests = Int(arguments[6]) else { usage() }
    let map = arguments[3]
    let requestBytes = (1...count).map { index -> [UInt8] in Netstring.encode(Array("\(map) \(domain(index))".utf8)) }
    // One event-loop thread drives every connection (as an MTA's many smtp processes would, without a
    // thread per connection eating the cores the servers need): each sends its next request when the
    // previous answer is complete.
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let start = DispatchTime.now().uptimeNanoseconds
    var futures: [EventLoopFuture<[UInt64]>] = []
    for connection in 0..<connections {
        let promise = group.next().makePromise(of: [UInt64].self)
        let offset = connection * 7919
        let channel = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        LookupClient(requests: requestBytes, offset: offset, total: requests, done: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port)
        channel.whenFailure { promise.fail($0) }
        futures.append(promise.futureResult)
    }
    var all: [UInt64] = []
    var failures = 0
    for future in futures {
        do { all += try await future.get() } catch { failures += 1 }
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    try await group.shutdownGracefully()
    all.sort()
    func percentile(_ p: Double) -> Double { all.isEmpty ? 0 : Double(all[min(all.count - 1, Int(Double(all.count) * p))]) / 1e6 }
    print(String(format: "connections=%d lookups=%d seconds=%.2f lookups_per_second=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f failed_connections=%d",
                 connections, all.count, elapsed, Double(all.count) / elapsed, percentile(0.5), percentile(0.99), percentile(1.0), failures))

default:
    usage()
}

/// One benchmark connection: a request, its whole answer (one netstring, which must be OK …), the next.
final class LookupClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let requests: [[UInt8]]
    let offset: Int
    let total: Int
    let done: EventLoopPromise<[UInt64]>
    var latencies: [UInt64] = []
    var sentAt: UInt64 = 0
    var pending = ByteBuffer()
    var finished = false

    init(requests: [[UInt8]], offset: Int, total: Int, done: EventLoopPromise<[UInt64]>) {
        self.requests = requests
        self.offset = offset
        self.total = total
        self.done = done
        latencies.reserveCapacity(total)
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context: context)
    }

    func sendNext(context: ChannelHandlerContext) {
        let request = requests[(offset + latencies.count) % requests.count]
        sentAt = DispatchTime.now().uptimeNanoseconds
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending.writeBuffer(&buffer)
        let parsed = pending.withUnsafeReadableBytes { Netstring.parse($0, maximum: 100_000) }
        switch parsed {
        case .incomplete:
            return
        case .invalid(let reason):
            finish(.failure(BenchmarkError(reason)), context: context)
        case .value(let value, let length):
            pending.moveReaderIndex(forwardBy: length)
            pending.discardReadBytes()
            guard value.first == UInt8(ascii: "O") else {
                finish(.failure(BenchmarkError("answer \(String(decoding: value, as: UTF8.self))")), context: context)
                return
            }
            latencies.append(DispatchTime.now().uptimeNanoseconds - sentAt)
            if latencies.count == total {
                finish(.success(latencies), context: context)
            } else {
                sendNext(context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(BenchmarkError("the server closed the connection")), context: context)
    }

    func finish(_ result: Result<[UInt64], any Error>, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
        context.close(promise: nil)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
