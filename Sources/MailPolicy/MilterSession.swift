import DNS
import Foundation

/// One milter connection's conversation (RFC-less, libmilter's protocol 6): it gathers the client,
/// HELO, envelope sender, header fields and body of each message, and at end of message authenticates it
/// and answers with an Authentication-Results header at the top and the action. One caller at a time:
/// the connection that owns it feeds it commands in order.
public final class MilterSession {
    public static let wantedActions: MilterProtocol.Actions = [.addHeaders, .changeHeaders, .quarantine]
    public static let wantedSteps: MilterProtocol.Steps = [.noRecipient, .noUnknown, .noData, .headerLeadingSpace]
    /// At most this many header fields per message.
    public static let maximumHeaders = 1_000

    let authenticator: MailAuthenticator
    let maximumMessageSize: Int
    private var clientAddress: IPAddress?
    private var clientName = "unknown"
    private var helo = ""
    private var message: ReceivedMessage?
    private var size = 0
    private var tooLarge = false
    private var leadingSpace = false
    /// Occurrences (from 1) of Authentication-Results fields claiming our authserv-id: forged, or left by a
    /// hop that is us; deleted before ours goes in (RFC 8601 §5).
    private var forgedResults: [UInt32] = []
    private var resultsSeen: UInt32 = 0
    /// The outcome of the last message, for the caller's metrics and aggregate data (taken once).
    private var lastOutcome: AuthenticationOutcome?

    public func takeOutcome() -> AuthenticationOutcome? {
        defer { lastOutcome = nil }
        return lastOutcome
    }

    public init(authenticator: MailAuthenticator, maximumMessageSize: Int = 64 << 20) {
        self.authenticator = authenticator
        self.maximumMessageSize = maximumMessageSize
    }

    /// The replies to `command`, in order; none for commands that take no reply (macros, abort).
    public func handle(_ command: MilterProtocol.Command) async -> [MilterProtocol.Reply] {
        switch command {
        case let .optionNegotiation(_, actions, steps):
            let agreed = MilterProtocol.Steps(rawValue: steps & Self.wantedSteps.rawValue)
            leadingSpace = agreed.contains(.headerLeadingSpace)
            return [.optionNegotiation(actions: MilterProtocol.Actions(rawValue: actions & Self.wantedActions.rawValue), steps: agreed)]
        case let .connect(hostname, address, _):
            clientAddress = address.flatMap { IPAddress($0.hasPrefix("IPv6:") ? String($0.dropFirst(5)) : $0) }
            clientName = hostname.hasPrefix("[") ? "unknown" : hostname
            return [.continue]
        case .helo(let name):
            helo = name
            return [.continue]
        case .mail(let sender, _):
            var address = sender
            if address.hasPrefix("<"), address.hasSuffix(">") { address = String(address.dropFirst().dropLast()) }
            message = ReceivedMessage(clientAddress: clientAddress, clientName: clientName, helo: helo, mailFrom: address)
            forgedResults = []
            resultsSeen = 0
            size = 0
            tooLarge = false
            return [.continue]
        case .recipient, .data, .endOfHeaders, .unknown:
            return [.continue]
        case let .header(name, value):
            size += name.utf8.count + value.count + 3
            if size > maximumMessageSize || (message?.headers.count ?? 0) >= Self.maximumHeaders { tooLarge = true }
            if name.trimmingCharacters(in: .whitespaces).lowercased() == "authentication-results" {
                resultsSeen += 1
                let id = String(decoding: value, as: UTF8.self).split(whereSeparator: { $0 == ";" || $0.isWhitespace }).first.map { $0.lowercased() }
                if id == authenticator.configuration.authservID.lowercased() { forgedResults.append(resultsSeen) }
            }
            if !tooLarge {
                // Postfix ends folded lines with LF alone; DKIM's simple canonicalization wants them as sent (CRLF).
                let normalised = Self.crlf(leadingSpace ? value : [0x20] + value)
                message?.headers.append(MailHeaderField(name: name, bytes: normalised))
            }
            return [.continue]
        case .body(let chunk):
            size += chunk.count
            if size > maximumMessageSize { tooLarge = true }
            if !tooLarge { message?.body += chunk }
            return [.continue]
        case .endOfMessage:
            defer { message = nil }
            guard let message else { return [.continue] }
            // Permanent: the same message would be too large on every retry.
            guard !tooLarge else { return [.replyCode("552 5.3.4 the message is too large to authenticate here")] }
            let outcome = await authenticator.authenticate(message)
            lastOutcome = outcome
            // Deleted from the last, so the earlier indexes stay right.
            let header = forgedResults.reversed().map { MilterProtocol.Reply.changeHeader(index: $0, name: "Authentication-Results", value: "") }
                + [.insertHeader(index: 0, name: "Authentication-Results", value: " " + outcome.authenticationResults)]
            switch outcome.action {
            case .accept: return header + [.accept]
            case .quarantine(let reason): return header + [.quarantine(reason), .accept]
            case .reject(let text), .tempfail(let text): return [.replyCode(text)]
            }
        case .abort:
            message = nil
            return []
        case .macros, .quit, .quitNewConnection:
            return []
        }
    }

    /// `bytes` with every LF not already after a CR preceded by one.
    static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0A) else { return bytes }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + 8)
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 0x0A, previous != 0x0D { result.append(0x0D) }
            result.append(byte)
            previous = byte
        }
        return result
    }
}
