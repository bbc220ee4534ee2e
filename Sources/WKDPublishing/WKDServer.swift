import Core
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The publisher's HTTP/1.1 listener, on SwiftNIO directly: every request is answered on its event loop,
/// in order, from memory: a dictionary look-up, then the entry's prebuilt response head, the `Date` line
/// and its prebuilt body written as they are (no task, no header encoding, no copy of the body), flushed
/// once per read. `/healthz` (the content loaded and PostgreSQL answering at the last check, made every
/// few seconds off the loop) and `/metrics` are answered too; any other path is the WKD's plain 404. It
/// sits behind a TLS-terminating proxy (README.md).
public struct WKDServer: Service {
    let host: String
    let port: Int
    let content: WKDContent
    let healthy: @Sendable () async -> Bool
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    public init(host: String, port: Int, content: WKDContent, healthy: @escaping @Sendable () async -> Bool, logger: Logger,
                onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.content = content
        self.healthy = healthy
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let content = content
        let health = HealthState()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(WKDHTTPHandler(content: content, health: health))
                }
            }
            .bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        logger.info("listening", metadata: ["http.host": "\(host)", "http.port": "\(bound)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // The health check off the event loops, so that /healthz answers from the last result.
                while !Task.isCancelled {
                    health.set(await healthy())
                    try? await Task.sleep(for: .seconds(2))
                }
            }
            await onListening(bound)
            try? await gracefulShutdown()
            group.cancelAll()
        }
        try? await channel.close()
    }
}

/// The last health check's result.
final class HealthState: Sendable {
    private let ok = Atomic<Bool>(false)
    func set(_ value: Bool) { ok.store(value, ordering: .releasing) }
    var isHealthy: Bool { ok.load(ordering: .acquiring) }
}

/// One connection's requests, answered in order as they are decoded (pipelined ones too).
final class WKDHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    let content: WKDContent
    let health: HealthState
    private var head: HTTPRequestHead?
    private var closing = false

    init(content: WKDContent, health: HealthState) {
        self.content = content
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            break
        case .end:
            guard let request = head, !closing else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        if closing { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A request NIO cannot parse: 400, and the connection ends.
        if !closing {
            closing = true
            var buffer = context.channel.allocator.buffer(capacity: 128)
            buffer.writeString("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\nDate: \(HTTPDate.now())\r\n\r\n")
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
        }
    }

    func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let uri = request.uri
        let path = uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
        let isHead = request.method == .HEAD
        let keepAlive = request.isKeepAlive
        if !keepAlive { closing = true }
        if path == "/healthz" || path == "/metrics" {
            let (status, type, text) = path == "/metrics" ? ("200 OK", MetricsExposition.contentType, MetricsExposition.render())
                : health.isHealthy && content.isLoaded ? ("200 OK", "text/plain", "ok\n") : ("503 Service Unavailable", "text/plain", "unavailable\n")
            write("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nCache-Control: no-store\r\nContent-Length: \(text.utf8.count)\r\n",
                  body: isHead ? nil : ByteBuffer(string: text), keepAlive: keepAlive, context: context)
            return
        }
        let answer = WKDAnswer.decide(method: request.method.rawValue, host: request.headers.first(name: "Host"), path: path,
                                      ifNoneMatch: request.headers.first(name: "If-None-Match"), content: content)
        switch answer {
        case .key(let entry):
            WKDMetrics.key.increment()
            write(entry.responseHead, body: isHead ? nil : entry.bodyBuffer, keepAlive: keepAlive, context: context)
        case .notModified(let entry):
            WKDMetrics.notModified.increment()
            write("HTTP/1.1 304 Not Modified\r\n" + WKDEntry.fields(etag: entry.etag), body: nil, keepAlive: keepAlive, context: context)
        case .policy:
            WKDMetrics.policy.increment()
            write(Self.policyHead, body: nil, keepAlive: keepAlive, context: context)
        case .notFound:
            WKDMetrics.notFound.increment()
            write(Self.notFoundHead, body: isHead ? nil : Self.notFoundBody, keepAlive: keepAlive, context: context)
        case .methodNotAllowed:
            WKDMetrics.methodNotAllowed.increment()
            write(Self.methodNotAllowedHead, body: nil, keepAlive: keepAlive, context: context)
        case .unavailable:
            write(Self.unavailableHead, body: nil, keepAlive: keepAlive, context: context)
        }
    }

    func write(_ head: String, body: ByteBuffer?, keepAlive: Bool, context: ChannelHandlerContext) {
        write(ByteBuffer(string: head), body: body, keepAlive: keepAlive, context: context)
    }

    /// The head (status line and fields without `Date`), then `Date`, `Connection: close` when the client
    /// does not keep the connection, the blank line, and the body; flushed in `channelReadComplete`.
    func write(_ head: ByteBuffer, body: ByteBuffer?, keepAlive: Bool, context: ChannelHandlerContext) {
        var tail = context.channel.allocator.buffer(capacity: 64)
        tail.writeString("Date: ")
        tail.writeString(HTTPDate.now())
        tail.writeString(keepAlive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n")
        context.write(wrapOutboundOut(head), promise: nil)
        context.write(wrapOutboundOut(tail), promise: nil)
        if let body { context.write(wrapOutboundOut(body), promise: nil) }
    }

    static let policyHead = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: *\r\nCache-Control: public, max-age=3600\r\nContent-Length: 0\r\n")
    static let notFoundBody = ByteBuffer(string: "not found\n")
    // Kept short: a key bound a minute ago should not stay hidden behind a cached 404.
    static let notFoundHead = ByteBuffer(string: "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: *\r\nCache-Control: public, max-age=60\r\nContent-Length: 10\r\n")
    static let methodNotAllowedHead = ByteBuffer(string: "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 0\r\n")
    // Before the content is loaded every answer would be a 404 that caches and proxies keep: say "later".
    static let unavailableHead = ByteBuffer(string: "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nCache-Control: no-store\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 0\r\n")
}

/// The `Date` header (IMF-fixdate), formatted once a second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((0, ""))

    static func now() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let second = Int(time.tv_sec)
        if let text = cache.withLock({ $0.second == second ? $0.text : nil }) { return text }
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        cache.withLock { $0 = (second, text) }
        return text
    }
}

/// Requests the publisher answered, by what it answered.
enum WKDMetrics {
    static let key = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "key")])
    static let policy = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "policy")])
    static let notModified = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "not_modified")])
    static let notFound = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "not_found")])
    static let methodNotAllowed = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "method_not_allowed")])
}
