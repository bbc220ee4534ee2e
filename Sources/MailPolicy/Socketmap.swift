/// Postfix's socketmap protocol (socketmap_table(5)): each request and each reply is one netstring
/// (`<length>:<bytes>,`), the request `<map name> <key>`, the reply `OK <data>`, `NOTFOUND `, `TEMP
/// <reason>`, `TIMEOUT <reason>` or `PERM <reason>`. Postfix keeps the connection open for further
/// requests; a reply is at most 100,000 bytes.
public enum Socketmap {
    /// Postfix's limit on a reply's data (the netstring's length).
    public static let maximumReply = 100_000
    /// Our limit on a request: a map name, a space and a next-hop or domain are far shorter.
    public static let maximumRequest = 4_096

    /// One request: the map name (which selects a policy profile) and the look-up key.
    public struct Request: Sendable, Equatable {
        public let name: String
        public let key: String

        public init(name: String, key: String) {
            self.name = name
            self.key = key
        }
    }

    public enum Reply: Sendable, Equatable {
        case ok(String)
        case notFound
        case temp(String)
        case timeout(String)
        case perm(String)

        /// The reply as the protocol spells it, before framing: `OK <data>`, `NOTFOUND `, `TEMP <reason>`, ….
        public var text: String {
            switch self {
            case .ok(let data): "OK " + data
            case .notFound: "NOTFOUND "
            case .temp(let reason): "TEMP " + reason
            case .timeout(let reason): "TIMEOUT " + reason
            case .perm(let reason): "PERM " + reason
            }
        }

        /// The reply as a netstring, its text cut to Postfix's limit.
        public var encoded: [UInt8] {
            Netstring.encode(Array(text.utf8.prefix(maximumReply)))
        }
    }

    /// What the bytes at the start of a connection's buffer hold.
    public enum Parsed: Sendable, Equatable {
        /// More bytes are needed.
        case incomplete
        /// A request, and how many bytes it took.
        case request(Request, length: Int)
        /// A well-framed netstring that is not a request (no space, not UTF-8): answer PERM, the
        /// connection stays usable.
        case badRequest(String, length: Int)
        /// Not a netstring, or over the limit: answer PERM and close (the framing is lost).
        case broken(String)
    }

    public static func parse(_ bytes: some Collection<UInt8>) -> Parsed {
        Array(bytes.prefix(maximumRequest + 16)).withUnsafeBytes { parse($0) }
    }

    /// As `parse(_:)`, on the bytes as they sit in a connection's buffer (no copy, no generic dispatch:
    /// this is every look-up's path).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        switch Netstring.parse(bytes, maximum: maximumRequest) {
        case .incomplete: return .incomplete
        case .invalid(let reason): return .broken(reason)
        case .value(let value, let length):
            // Split on the first space, then make each part a String once (validated as UTF-8).
            guard let space = value.firstIndex(of: UInt8(ascii: " ")), space != 0,
                  let name = String(validating: value[..<space], as: UTF8.self) else {
                return String(validating: value, as: UTF8.self) == nil
                    ? .badRequest("the request is not UTF-8", length: length)
                    : .badRequest("the request is not \"<name> <key>\"", length: length)
            }
            guard let key = String(validating: value[(space + 1)...], as: UTF8.self) else {
                return .badRequest("the request is not UTF-8", length: length)
            }
            return .request(Request(name: name, key: key), length: length)
        }
    }
}

/// Netstrings (D. J. Bernstein): `<decimal length>:<bytes>,`, the length without leading zeros.
public enum Netstring {
    public enum Parsed: Sendable, Equatable {
        case incomplete
        /// The value, and how many bytes the netstring took.
        case value([UInt8], length: Int)
        case invalid(String)
    }

    public static func parse(_ input: some Collection<UInt8>, maximum: Int) -> Parsed {
        Array(input.prefix(maximum + 16)).withUnsafeBytes { parse($0, maximum: maximum) }
    }

    /// As `parse(_:maximum:)`, on bytes in place (indices from 0).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maximum: Int) -> Parsed {
        var index = 0
        var length = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            if index > 0 && bytes[0] == UInt8(ascii: "0") { return .invalid("a netstring length has a leading zero") }
            length = length * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            if length > maximum { return .invalid("a netstring is longer than \(maximum) bytes") }
            index += 1
        }
        guard index < bytes.count else { return index > 8 ? .invalid("a netstring length is too long") : .incomplete }
        guard index > 0, bytes[index] == UInt8(ascii: ":") else { return .invalid("not a netstring (\"<length>:\" expected)") }
        let start = index + 1
        guard bytes.count >= start + length + 1 else { return .incomplete }
        guard bytes[start + length] == UInt8(ascii: ",") else { return .invalid("a netstring does not end with \",\"") }
        return .value(Array(bytes[start..<(start + length)]), length: start + length + 1)
    }

    public static func encode(_ value: [UInt8]) -> [UInt8] {
        Array("\(value.count):".utf8) + value + [UInt8(ascii: ",")]
    }
}
