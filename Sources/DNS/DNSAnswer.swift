/// Whether DNSSEC vouches for an answer.
public enum DNSSecurity: Sendable, Equatable, CustomStringConvertible {
    /// The answer validated up a chain of trust to a configured anchor.
    case secure
    /// No chain of trust covers the name (an unsigned zone, or no anchor above it): the answer is
    /// ordinary, unauthenticated DNS.
    case insecure
    /// A chain of trust covers the name but the answer failed it: signatures expired, broken or
    /// missing. Unbound's reason is kept for the operator. Never use the data of a bogus answer.
    case bogus(reason: String)
    /// There was no answer to validate (SERVFAIL, REFUSED, a malformed response): nothing is known
    /// about the name's DNSSEC state. Never read this as insecure.
    case indeterminate

    public var description: String {
        switch self {
        case .secure: "secure"
        case .insecure: "insecure"
        case .bogus(let reason): "bogus (\(reason))"
        case .indeterminate: "indeterminate"
        }
    }
}

/// The response code of an answer (RFC 1035 §4.1.1, RFC 6895).
public enum DNSResponseCode: Sendable, Equatable, CustomStringConvertible {
    case noError, formatError, serverFailure, nameError, notImplemented, refused
    case other(UInt8)

    public init(_ value: Int) {
        switch value {
        case 0: self = .noError
        case 1: self = .formatError
        case 2: self = .serverFailure
        case 3: self = .nameError
        case 4: self = .notImplemented
        case 5: self = .refused
        default: self = .other(UInt8(clamping: value))
        }
    }

    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formatError: "FORMERR"
        case .serverFailure: "SERVFAIL"
        case .nameError: "NXDOMAIN"
        case .notImplemented: "NOTIMP"
        case .refused: "REFUSED"
        case .other(let code): "RCODE\(code)"
        }
    }
}

/// What a look-up found. Empty results and failures are different cases, so a caller cannot take a
/// failure for "there are no records".
public enum DNSOutcome<Record: DNSRecord>: Sendable, Equatable {
    /// The name exists and has records of the type asked for (never empty).
    case records([Record])
    /// The name exists but has no records of this type (NOERROR, NODATA).
    case noRecords
    /// The name does not exist (NXDOMAIN).
    case noSuchName
    /// There is no usable answer: SERVFAIL, REFUSED, a bogus DNSSEC answer, a malformed response.
    /// Mail decisions treat this as a temporary failure, never as an empty answer.
    case failed(reason: String)
}

/// One answer from the resolver, with everything a policy decision needs to know about it.
public struct DNSAnswer<Record: DNSRecord>: Sendable {
    /// The name and type that were asked for.
    public let name: DNSName
    public var type: DNSRecordType { Record.type }
    public let outcome: DNSOutcome<Record>
    public let rcode: DNSResponseCode
    public let security: DNSSecurity
    /// Seconds the answer may still be used (for a cached answer, what is left of it).
    public let ttl: UInt32
    /// Whether the answer came from the resolver's answer cache rather than a fresh resolution.
    public let fromCache: Bool
    /// The CNAME targets followed from `name`, in order; empty when there was no alias.
    public let cnameChain: [DNSName]

    /// The name the records belong to: the end of the CNAME chain, or `name`.
    public var canonicalName: DNSName { cnameChain.last ?? name }
    public var isSecure: Bool { security == .secure }

    /// The records, `[]` when the name or type does not exist; throws on a failed look-up.
    public func records() throws(DNSError) -> [Record] {
        switch outcome {
        case .records(let records): return records
        case .noRecords, .noSuchName: return []
        case .failed(let reason): throw .failed(name: name, type: Record.type, reason: reason)
        }
    }
}

/// A look-up that produced no answer at all, or an answer read as a failure.
public enum DNSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The resolver found no answer within `dns.timeout`.
    case timedOut(name: DNSName, type: DNSRecordType, after: Duration)
    /// The answer was a failure (see `DNSOutcome.failed`).
    case failed(name: DNSName, type: DNSRecordType, reason: String)
    /// libunbound itself refused the query (out of memory, its worker gone).
    case resolver(String)
    /// The resolver was shut down before the answer came.
    case closed

    public var description: String {
        switch self {
        case let .timedOut(name, type, after): "DNS look-up of \(name) \(type) timed out after \(after)"
        case let .failed(name, type, reason): "DNS look-up of \(name) \(type) failed: \(reason)"
        case let .resolver(message): "DNS resolver error: \(message)"
        case .closed: "DNS resolver was shut down"
        }
    }
}
