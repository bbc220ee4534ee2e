import Core
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The publisher's HTTP/1.1 listener, on SwiftNIO directly: every WKD request is answered on its event
/// loop from `WKDContent` (a dictionary look-up and prebuilt buffers), with no task, no allocation of a
/// body and no database round trip, so that serving keeps up with a static web server. `/healthz` (the
/// content loaded and PostgreSQL answering) and `/metrics` are answered too; any other path is the
/// WKD's plain 404. It sits behind a TLS-terminating proxy (README.md).
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
        let healthy = healthy
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(WKDHTTPHandler(content: content, healthy: healthy))
                }
            }
            .bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        logger.info("listening", metadata: ["http.host": "\(host)", "http.port": "\(bound)"])
        await onListening(bound)
        try? await gracefulShutdown()
        try? await channel.close()
    }
}

/// One connection's requests, answered in order (NIO's pipeline handler keeps pipelined requests in order).
final class WKDHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let content: WKDContent
    let healthy: @Sendable () async -> Bool
    private var head: HTTPRequestHead?

    init(content: WKDContent, healthy: @escaping @Sendable () async -> Bool) {
        self.content = content
        self.healthy = healthy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            break
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let uri = request.uri
        let path = uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
        if path == "/healthz" || path == "/metrics" {
            operational(path, request, context: context)
            return
        }
        let answer = WKDAnswer.decide(method: request.method.rawValue, host: request.headers.first(name: "Host"), path: path,
                                      ifNoneMatch: request.headers.first(name: "If-None-Match"), content: content)
        let isHead = request.method == .HEAD
        switch answer {
        case .key(let entry):
            WKDMetrics.key.increment()
            write(.ok, entry.headers, body: isHead ? nil : entry.bodyBuffer, request, context: context)
        case .notModified(let entry):
            WKDMetrics.notModified.increment()
            var headers = entry.headers
            headers.remove(name: "Content-Length")
            write(.notModified, headers, body: nil, request, context: context)
        case .policy:
            WKDMetrics.policy.increment()
            write(.ok, Self.policyHeaders, body: nil, request, context: context)
        case .notFound:
            WKDMetrics.notFound.increment()
            write(.notFound, Self.notFoundHeaders, body: isHead ? nil : Self.notFoundBody, request, context: context)
        case .methodNotAllowed:
            WKDMetrics.methodNotAllowed.increment()
            write(.methodNotAllowed, Self.methodNotAllowedHeaders, body: nil, request, context: context)
        case .unavailable:
            write(.serviceUnavailable, Self.unavailableHeaders, body: nil, request, context: context)
        }
    }

    /// `/healthz` and `/metrics`, answered off the event loop (they may wait for PostgreSQL) and written back on it.
    func operational(_ path: String, _ request: HTTPRequestHead, context: ChannelHandlerContext) {
        let healthy = healthy
        let loop = context.eventLoop
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        let handler = NIOLoopBound(self, eventLoop: loop)
        loop.makeFutureWithTask { () async -> (HTTPResponseStatus, String, String) in
            if path == "/metrics" { return (.ok, MetricsExposition.contentType, MetricsExposition.render()) }
            let ok = await healthy()
            return (ok ? .ok : .serviceUnavailable, "text/plain", ok ? "ok\n" : "unavailable\n")
        }.whenSuccess { status, type, text in
            let body = boundContext.value.channel.allocator.buffer(string: text)
            handler.value.write(status, HTTPHeaders([("Content-Type", type), ("Cache-Control", "no-store"), ("Content-Length", String(body.readableBytes))]),
                                body: request.method == .HEAD ? nil : body, request, context: boundContext.value)
        }
    }

    func write(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, body: ByteBuffer?, _ request: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = headers
        headers.add(name: "Date", value: HTTPDate.now())
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    static let policyHeaders = HTTPHeaders([("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*"), ("Cache-Control", "public, max-age=3600"),
                                            ("Content-Length", "0")])
    static let notFoundBody = ByteBuffer(string: "not found\n")
    // Kept short: a key bound a minute ago should not stay hidden behind a cached 404.
    static let notFoundHeaders = HTTPHeaders([("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*"), ("Cache-Control", "public, max-age=60"),
                                              ("Content-Length", "10")])
    static let methodNotAllowedHeaders = HTTPHeaders([("Allow", "GET, HEAD"), ("Access-Control-Allow-Origin", "*"), ("Content-Length", "0")])
    // Before the content is loaded every answer would be a 404 that caches and proxies keep: say "later".
    static let unavailableHeaders = HTTPHeaders([("Retry-After", "5"), ("Cache-Control", "no-store"), ("Access-Control-Allow-Origin", "*"),
                                                 ("Content-Length", "0")])
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
