import MailPolicy
import Metrics
import NIOCore
import Synchronization

/// One socketmap connection: netstring requests read from its bytes and answered in order, one at a time
/// (Postfix waits for each answer). An answer from memory is written without leaving the event loop;
/// one that needs PostgreSQL or the network is worked out in a task and written when it is ready, reading
/// of further requests waiting meanwhile. A well-framed bad request gets `PERM` and the connection stays
/// usable; broken framing gets `PERM` and the connection is closed once it is written. A client that does
/// not read its answers is not read from either (no answers pile up), and one that sends far ahead of its
/// answers is closed.
final class SocketmapHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let resolver: TransportPolicyResolver
    let connections: SocketmapConnections
    private var pending: ByteBuffer?
    private var waiting = false
    private var closing = false
    private var counted = false
    /// Bytes a client may send ahead while an answer is being worked out.
    static let maximumAhead = 4 * Socketmap.maximumRequest

    init(resolver: TransportPolicyResolver, connections: SocketmapConnections) {
        self.resolver = resolver
        self.connections = connections
    }

    func channelActive(context: ChannelHandlerContext) {
        counted = connections.open()
        if !counted {
            SocketmapMetrics.refusedConnections.increment()
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { connections.close() }
        counted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var buffer = unwrapInboundIn(data)
        if var held = pending {
            held.writeBuffer(&buffer)
            pending = held
        } else {
            pending = buffer
        }
        if waiting, let held = pending, held.readableBytes > Self.maximumAhead {
            // A PERM now would read as the answer to the request still being worked out: just close.
            SocketmapMetrics.badRequests.increment()
            closing = true
            pending = nil
            context.close(promise: nil)
            return
        }
        process(context: context)
    }

    private func process(context: ChannelHandlerContext) {
        var wrote = false
        defer { if wrote { context.flush() } }
        while !waiting, !closing, var buffer = pending, buffer.readableBytes > 0 {
            guard context.channel.isWritable else {
                // Answers are piling up unread: stop reading until they drain (channelWritabilityChanged).
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
                return
            }
            let parsed = buffer.withUnsafeReadableBytes { Socketmap.parse($0) }
            switch parsed {
            case .incomplete:
                return
            case .broken(let reason):
                SocketmapMetrics.badRequests.increment()
                refuse(reason, context: context)
                return
            case .badRequest(let reason, let length):
                SocketmapMetrics.badRequests.increment()
                buffer.moveReaderIndex(forwardBy: length)
                pending = buffer.readableBytes > 0 ? buffer : nil
                write(.perm(reason), context: context)
                wrote = true
            case .request(let request, let length):
                buffer.moveReaderIndex(forwardBy: length)
                pending = buffer.readableBytes > 0 ? buffer : nil
                if let answer = resolver.immediateAnswer(request) {
                    context.write(wrapOutboundOut(ByteBuffer(bytes: answer.encodedReply)), promise: nil)
                    wrote = true
                } else {
                    waiting = true
                    let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                    let resolver = resolver
                    Task {
                        let answer = await resolver.answer(request)
                        bound.eventLoop.execute {
                            let (handler, context) = bound.value
                            handler.answered(answer, context: context)
                        }
                    }
                }
            }
        }
    }

    private func answered(_ answer: TransportAnswer, context: ChannelHandlerContext) {
        waiting = false
        guard !closing, context.channel.isActive else { return }
        context.write(wrapOutboundOut(ByteBuffer(bytes: answer.encodedReply)), promise: nil)
        context.flush()
        process(context: context)
    }

    private func write(_ reply: Socketmap.Reply, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(ByteBuffer(bytes: reply.encoded)), promise: nil)
    }

    /// Answers PERM and closes the connection once the answer is written.
    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        closing = true
        pending = nil
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: Socketmap.Reply.perm(reason).encoded)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
            process(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Silent while its answer is being worked out is not idle.
        if event is IdleStateHandler.IdleStateEvent, !waiting {
            SocketmapMetrics.idleClosed.increment()
            context.close(promise: nil)
        } else if !(event is IdleStateHandler.IdleStateEvent) {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// How many socketmap connections are open, against `transport.socketmap.maxConnections`.
final class SocketmapConnections: Sendable {
    private let open_ = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var current: Int { open_.load(ordering: .relaxed) }

    /// Counts a new connection; false (and not counted) when the limit is reached.
    func open() -> Bool {
        let now = open_.wrappingAdd(1, ordering: .relaxed).newValue
        SocketmapMetrics.connections.record(now)
        if now > limit {
            open_.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func close() {
        let now = open_.wrappingSubtract(1, ordering: .relaxed).newValue
        SocketmapMetrics.connections.record(now)
    }
}
