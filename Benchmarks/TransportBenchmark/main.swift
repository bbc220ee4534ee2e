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
import Synchronization
import TransportPolicy

#if canImport(Glibc)
import Glibc
#endif

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
    // Every connection's latencies (ns), filled by its own thread.
    let results = Mutex<[[UInt64]]>([])
    let failures = Atomic<Int>(0)
    let done = DispatchGroup()
    let start = DispatchTime.now().uptimeNanoseconds
    for connection in 0..<connections {
        done.enter()
        let thread = Thread {
            defer { done.leave() }
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var one: Int32 = 1
            setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { failures.add(requests, ordering: .relaxed); return }
            var latencies: [UInt64] = []
            latencies.reserveCapacity(requests)
            var buffer = [UInt8](repeating: 0, count: 65_536)
            for index in 0..<requests {
                let request = requestBytes[(connection * 7919 + index) % count]
                let sent = DispatchTime.now().uptimeNanoseconds
                guard send(socket, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { failures.add(1, ordering: .relaxed); return }
                // Read one netstring: "<len>:" then len bytes and ",".
                var have = 0
                var total: Int?
                while total == nil || have < total! {
                    let got = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + have, $0.count - have, 0) }
                    guard got > 0 else { failures.add(1, ordering: .relaxed); return }
                    have += got
                    if total == nil, let colon = buffer[0..<have].firstIndex(of: UInt8(ascii: ":")),
                       let length = Int(String(decoding: buffer[0..<colon], as: UTF8.self)) {
                        total = colon + 1 + length + 1
                    }
                }
                if buffer[buffer.firstIndex(of: UInt8(ascii: ":"))! + 1] != UInt8(ascii: "O") { failures.add(1, ordering: .relaxed) }
                latencies.append(DispatchTime.now().uptimeNanoseconds - sent)
            }
            results.withLock { $0.append(latencies) }
        }
        thread.start()
    }
    done.wait()
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let all = results.withLock { $0.flatMap { $0 } }.sorted()
    func percentile(_ p: Double) -> Double { all.isEmpty ? 0 : Double(all[min(all.count - 1, Int(Double(all.count) * p))]) / 1e6 }
    let rate = Double(all.count) / elapsed
    print(String(format: "connections=%d lookups=%d seconds=%.2f lookups_per_second=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f failures=%d",
                 connections, all.count, elapsed, rate, percentile(0.5), percentile(0.99), percentile(1.0), failures.load(ordering: .relaxed)))

default:
    usage()
}
