import CUnbound
import Dispatch
import Foundation
import Synchronization

/// What libunbound reported for one query, copied out of its `ub_result` so no C memory escapes.
struct UnboundResult: Sendable {
    let rcode: Int
    let secure: Bool
    let bogus: Bool
    let whyBogus: String?
    let ttl: UInt32
    let answerPacket: [UInt8]
}

/// The thin wrapper over one libunbound context: the only place in `DNS` that touches C pointers.
///
/// Queries go to unbound's own resolver thread (`ub_ctx_async(ctx, 1)`, so no fork) through
/// `ub_resolve_async`; answers come back over `ub_fd`, which a Dispatch read source watches on a
/// queue of its own, so no Swift cooperative thread ever blocks on DNS.
final class UnboundContext: Sendable {
    /// A pointer to the `ub_ctx`. libunbound guards a context with its own locks (`cfglock` for
    /// configuration and the query tree, one lock per pipe), and every call here goes through them; the
    /// pointer itself never changes and is freed only once, after the read source is cancelled.
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// The read source on `ub_fd`. Dispatch sources are thread-safe objects (`cancel` may be called
    /// from any thread); the reference is set once in `init` and never changed.
    private struct Source: @unchecked Sendable {
        let source: any DispatchSourceRead
    }

    /// One outstanding query's completion.
    final class Completion: Sendable {
        let handler: @Sendable (Result<UnboundResult, DNSError>) -> Void
        init(_ handler: @escaping @Sendable (Result<UnboundResult, DNSError>) -> Void) { self.handler = handler }
    }

    /// What C holds for one query (the callback's `mydata`, retained once): its completion and the
    /// register that lets `close` free what unbound never answered.
    final class Ticket: Sendable {
        let completion: Completion
        let register: Outstanding
        init(_ completion: Completion, _ register: Outstanding) {
            self.completion = completion
            self.register = register
        }
    }

    /// The tickets C holds, by address, with their query IDs once known.
    final class Outstanding: Sendable {
        private let tickets = Mutex<[UInt: Int32]>([:])

        func add(_ ticket: UnsafeMutableRawPointer) { tickets.withLock { $0[UInt(bitPattern: ticket)] = 0 } }
        func identify(_ ticket: UnsafeMutableRawPointer, as id: Int32) {
            tickets.withLock { if $0[UInt(bitPattern: ticket)] != nil { $0[UInt(bitPattern: ticket)] = id } }
        }
        /// Forgets a ticket; false if it was already gone.
        @discardableResult
        func remove(_ ticket: UnsafeMutableRawPointer) -> Bool { tickets.withLock { $0.removeValue(forKey: UInt(bitPattern: ticket)) != nil } }
        /// Forgets the ticket of query `id`, returning its address.
        func remove(id: Int32) -> UnsafeMutableRawPointer? {
            tickets.withLock { tickets in
                guard let key = tickets.first(where: { $0.value == id })?.key else { return nil }
                tickets.removeValue(forKey: key)
                return UnsafeMutableRawPointer(bitPattern: key)
            }
        }
        /// Releases every ticket still held (after unbound was deleted and can call back no more).
        func releaseAll() {
            let left = tickets.withLock { tickets in
                defer { tickets.removeAll() }
                return Array(tickets.keys)
            }
            for key in left {
                if let pointer = UnsafeMutableRawPointer(bitPattern: key) { Unmanaged<Ticket>.fromOpaque(pointer).release() }
            }
        }
    }

    private let handle: Handle
    private let source: Source
    private let outstanding = Outstanding()
    /// Set by `close`. Held while calling into the context, so it cannot be freed under a call.
    private let closed = Mutex<Bool>(false)

    /// Creates a configured, finalized context; a configuration unbound refuses is thrown here.
    init(trustAnchorFiles: [String], forwarders: [String], stubZones: [(zone: String, addresses: [String])],
         options: [(String, String)]) throws(DNSConfigurationError) {
        guard let context = ub_ctx_create() else { throw DNSConfigurationError("libunbound could not create a context (out of memory?)") }
        func check(_ code: Int32, _ what: @autoclosure () -> String) throws(DNSConfigurationError) {
            guard code == 0 else {
                ub_ctx_delete(context)
                throw DNSConfigurationError("\(what()): \(String(cString: ub_strerror(code)))")
            }
        }
        try check(ub_ctx_async(context, 1), "libunbound cannot run its resolver in a thread")
        for (option, value) in options {
            try check(ub_ctx_set_option(context, option, value), "unbound refused option \(option) \(value)")
        }
        for file in trustAnchorFiles {
            try check(ub_ctx_add_ta_file(context, file), "unbound refused trust anchor file \(file)")
        }
        for forwarder in forwarders {
            try check(ub_ctx_set_fwd(context, forwarder), "dns.forwarders: \"\(forwarder)\" is not an address[@port]")
        }
        for (zone, addresses) in stubZones {
            for address in addresses {
                try check(ub_ctx_set_stub(context, zone, address, 0), "dns.stubZones: \"\(zone)=\(address)\" is not a zone and an address[@port]")
            }
        }
        // Finalizing reads the trust anchors and starts the modules: do it now, so a bad anchor or
        // option is a start-up error rather than every later query's SERVFAIL.
        try check(ub_ctx_zone_remove(context, "palisade-finalize.invalid."),
                  "unbound could not start with this configuration (its own message is on stderr above)")

        handle = Handle(pointer: context)
        let queue = DispatchQueue(label: "palisade.dns.unbound")
        let readable = DispatchSource.makeReadSource(fileDescriptor: ub_fd(context), queue: queue)
        let handle = self.handle
        readable.setEventHandler { _ = ub_process(handle.pointer) }
        let outstanding = self.outstanding
        readable.setCancelHandler {
            ub_ctx_delete(handle.pointer)
            outstanding.releaseAll()
        }
        readable.activate()
        source = Source(source: readable)
    }

    /// Starts a query; `completion` runs once on the context's queue with the result, unless the query
    /// is cancelled first. Returns the query's ID for `cancel`.
    func resolve(name: String, type: UInt16, completion: Completion) throws(DNSError) -> Int32 {
        var id: Int32 = 0
        let ticket = Unmanaged.passRetained(Ticket(completion, outstanding)).toOpaque()
        outstanding.add(ticket)
        let code = closed.withLock { closed -> Int32? in
            closed ? nil : ub_resolve_async(handle.pointer, name, Int32(type), 1 /* IN */, ticket, unboundCallback, &id)
        }
        guard let code, code == 0 else {
            outstanding.remove(ticket)
            Unmanaged<Ticket>.fromOpaque(ticket).release()
            guard let code else { throw .closed }
            throw .resolver(String(cString: ub_strerror(code)))
        }
        outstanding.identify(ticket, as: id)
        return id
    }

    /// Cancels a query. True if it was cancelled before its answer was delivered, in which case its
    /// completion will never run (and its ticket is released here); false if the answer is delivered or
    /// on its way.
    func cancel(_ id: Int32) -> Bool {
        guard closed.withLock({ closed in !closed && ub_cancel(handle.pointer, id) == 0 }) else { return false }
        if let ticket = outstanding.remove(id: id) { Unmanaged<Ticket>.fromOpaque(ticket).release() }
        return true
    }

    /// Stops the resolver thread and frees the context and the tickets of queries unbound never answered.
    /// Those never complete: the caller fails them.
    func close() {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if wasOpen { source.source.cancel() }
    }
}

/// libunbound's callback: copies the result into Swift values, frees it, and completes the query.
private let unboundCallback: ub_callback_type = { context, error, result in
    guard let context else {
        ub_resolve_free(result)
        return
    }
    let ticket = Unmanaged<UnboundContext.Ticket>.fromOpaque(context).takeRetainedValue()
    ticket.register.remove(context)
    let completion = ticket.completion
    defer { ub_resolve_free(result) }
    guard error == 0, let result else {
        completion.handler(.failure(.resolver(String(cString: ub_strerror(error)))))
        return
    }
    let answer = result.pointee
    let packet: [UInt8] = if let bytes = answer.answer_packet, answer.answer_len > 0 {
        Array(UnsafeRawBufferPointer(start: bytes, count: Int(answer.answer_len)))
    } else {
        []
    }
    completion.handler(.success(UnboundResult(
        rcode: Int(answer.rcode),
        secure: answer.secure != 0,
        bogus: answer.bogus != 0,
        whyBogus: answer.why_bogus.map { String(cString: $0) },
        ttl: UInt32(clamping: answer.ttl),
        answerPacket: packet
    )))
}

/// A resolver configuration that libunbound or our own checks refuse; names the setting and value.
public struct DNSConfigurationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
