import Core
import Foundation
import HTTPFetch
import Synchronization

/// A client of a validating key server's VKS API (Hagrid, keys.openpgp.org; its documented API at
/// `/about/api`): look-ups by fingerprint, key ID and e-mail address, upload, and the request for
/// address verification. The keystore's look-ups and the VKS sync worker both use it.
///
/// Hagrid answers look-ups with an armored certificate (`application/pgp-keys`) or 404; errors carry a
/// JSON body `{"error": "…"}` (or plain text). A 429 makes this client hold back the requests of that
/// kind (by e-mail, which keys.openpgp.org limits hardest, or the others) until the time the server
/// names (60 seconds when it names none); a 503 with `Retry-After` (maintenance) holds back every
/// request. The server's limits are respected rather than probed.
public struct VKSClient: Sendable {
    /// What a look-up found: the certificate as served, or nothing.
    public enum Lookup: Sendable, Equatable {
        case found([UInt8])
        case notFound
    }

    public let baseURL: URL
    let fetcher: HTTPFetcher
    var timeout: Duration
    let maxKeySize: Int
    let backoff: VKSBackoff
    let now: @Sendable () -> Date

    public init(fetcher: HTTPFetcher, configuration: KeyDiscoveryConfiguration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.fetcher = fetcher
        baseURL = configuration.vksURL
        timeout = configuration.timeout
        maxKeySize = configuration.maxKeySize
        backoff = VKSBackoff()
        self.now = now
    }

    /// This client with another timeout, still sharing what the server asked it to hold back.
    public func withTimeout(_ timeout: Duration) -> VKSClient {
        var copy = self
        copy.timeout = timeout
        return copy
    }

    /// `GET /vks/v1/by-fingerprint/<FINGERPRINT>`: the key whose primary key or subkey has it. Always
    /// served, even when no address was verified (then without User IDs).
    public func byFingerprint(_ fingerprint: Fingerprint) async throws(VKSError) -> Lookup {
        try await lookup("by-fingerprint/\(fingerprint.hex)")
    }

    /// `GET /vks/v1/by-keyid/<KEYID>`: 16 hexadecimal digits.
    public func byKeyID(_ keyID: String) async throws(VKSError) -> Lookup {
        let upper = keyID.uppercased()
        guard upper.count == 16, upper.allSatisfy(\.isHexDigit) else {
            throw .invalidRequest("a key ID is 16 hexadecimal digits, not \"\(keyID.prefix(40))\"")
        }
        return try await lookup("by-keyid/\(upper)")
    }

    /// `GET /vks/v1/by-email/<address>`: only keys whose owner verified that address.
    public func byEmail(_ address: EmailAddress) async throws(VKSError) -> Lookup {
        try await lookup("by-email/\(Self.pathEscaped(address.description))")
    }

    /// `POST /vks/v1/upload`: publishes `armoredKey` (verified addresses stay published; new ones wait for
    /// `requestVerify`).
    public func upload(armoredKey: String) async throws(VKSError) -> VKSUploadStatus {
        try await post("upload", ["keytext": .string(armoredKey)])
    }

    /// `POST /vks/v1/request-verify`: asks the server to mail a confirmation link to each address.
    public func requestVerify(token: String, addresses: [String], locale: [String] = []) async throws(VKSError) -> VKSUploadStatus {
        var body: [String: VKSJSON] = ["token": .string(token), "addresses": .array(addresses.map(VKSJSON.string))]
        if !locale.isEmpty { body["locale"] = .array(locale.map(VKSJSON.string)) }
        return try await post("request-verify", body)
    }

    /// The URL of `path` under `/vks/v1/`.
    public func url(_ path: String) -> URL {
        let base = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        return URL(string: "\(base)/vks/v1/\(path)")!
    }

    func lookup(_ path: String) async throws(VKSError) -> Lookup {
        var request = HTTPRequest(url: url(path), maxBodySize: maxKeySize, timeout: timeout)
        request.logsHostOnly = true
        let response = try await send(request, kind: path.hasPrefix("by-email/") ? .byEmail : .other)
        switch response.status {
        case 200: return .found(response.body)
        case 404: return .notFound
        default: throw error(from: response, kind: path.hasPrefix("by-email/") ? .byEmail : .other)
        }
    }

    func post(_ path: String, _ body: [String: VKSJSON]) async throws(VKSError) -> VKSUploadStatus {
        let json = (try? JSONEncoder().encode(body)).map(Array.init) ?? []
        var request = HTTPRequest.post(url(path), contentType: "application/json", body: json)
        request.timeout = timeout
        request.maxBodySize = 64 << 10
        let response = try await send(request, kind: .other)
        guard response.status == 200 else { throw error(from: response, kind: .other) }
        do {
            return try JSONDecoder().decode(VKSUploadStatus.self, from: Data(response.body))
        } catch {
            throw .invalidResponse("the answer to \(path) is not the documented JSON: \(error)")
        }
    }

    func send(_ request: HTTPRequest, kind: VKSBackoff.Kind) async throws(VKSError) -> HTTPResponse {
        if let until = backoff.blockedUntil(kind, now: now()) { throw .rateLimited(until: until) }
        let response: HTTPResponse
        do {
            response = try await fetcher.fetch(request)
        } catch let error as HTTPFetchError {
            throw .transport(error)
        } catch {
            throw .transport(.transferFailed("\(error)"))
        }
        let time = now()
        if response.status == 429 {
            backoff.hold(kind, until: RetryAfter.parse(response.header("Retry-After"), now: time) ?? time.addingTimeInterval(60))
        } else if response.status == 503, let until = RetryAfter.parse(response.header("Retry-After"), now: time) {
            backoff.hold(.byEmail, until: until)
            backoff.hold(.other, until: until)
        }
        return response
    }

    func error(from response: HTTPResponse, kind: VKSBackoff.Kind) -> VKSError {
        let text = (try? JSONDecoder().decode([String: String].self, from: Data(response.body)))?["error"]
            ?? String(decoding: response.body.prefix(200), as: UTF8.self)
        let message = String(decoding: Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8.prefix(200)), as: UTF8.self)
        switch response.status {
        case 429: return .rateLimited(until: backoff.blockedUntil(kind, now: now()))
        case 500...599: return .server(status: response.status, message: message, retryAfter: backoff.blockedUntil(kind, now: now()))
        default: return .refused(status: response.status, message: message)
        }
    }

    /// RFC 3986 unreserved characters and `@` stay; everything else is percent-encoded.
    static func pathEscaped(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// Until when the server asked us to hold back each kind of request; shared by every copy of one
/// `VKSClient`.
final class VKSBackoff: Sendable {
    enum Kind: Hashable { case byEmail, other }

    private let until = Mutex<[Kind: Date]>([:])

    func blockedUntil(_ kind: Kind, now: Date) -> Date? {
        until.withLock { until in
            guard let date = until[kind], date > now else { return nil }
            return date
        }
    }

    func hold(_ kind: Kind, until date: Date) {
        until.withLock { until in until[kind] = max(until[kind] ?? date, date) }
    }
}

/// The VKS's answer to an upload or a verification request: the key's fingerprint, the token for
/// `request-verify`, and each address's state (`unpublished`, `pending`, `published`, `revoked`).
public struct VKSUploadStatus: Codable, Sendable, Equatable {
    public enum AddressState: String, Codable, Sendable { case unpublished, pending, published, revoked }

    public let keyFingerprint: String
    public let token: String
    public let status: [String: AddressState]

    enum CodingKeys: String, CodingKey {
        case keyFingerprint = "key_fpr"
        case token, status
    }

    public init(keyFingerprint: String, token: String, status: [String: AddressState]) {
        self.keyFingerprint = keyFingerprint
        self.token = token
        self.status = status
    }
}

/// Why a VKS request gave no answer to use.
public enum VKSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 429, or held back because of an earlier one: not before `until`.
    case rateLimited(until: Date?)
    /// A 5xx.
    case server(status: Int, message: String, retryAfter: Date?)
    /// Another 4xx: the server refused the request (a malformed key, an unknown token, …).
    case refused(status: Int, message: String)
    /// No HTTP answer (DNS, TLS, timeout, …).
    case transport(HTTPFetchError)
    case invalidResponse(String)
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .rateLimited(let until?): "rate-limited by the VKS until \(until.formatted(.iso8601))"
        case .rateLimited(nil): "rate-limited by the VKS"
        case let .server(status, message, _): "the VKS answered HTTP \(status)" + (message.isEmpty ? "" : ": \(message)")
        case let .refused(status, message): "the VKS refused the request (HTTP \(status))" + (message.isEmpty ? "" : ": \(message)")
        case .transport(let error): "\(error)"
        case .invalidResponse(let message): message
        case .invalidRequest(let message): message
        }
    }

    /// When the server said to come back, if it did.
    public var retryAfter: Date? {
        switch self {
        case .rateLimited(let until): until
        case .server(_, _, let retryAfter): retryAfter
        default: nil
        }
    }
}

/// The JSON bodies this client sends: strings and arrays of them.
enum VKSJSON: Encodable {
    case string(String)
    case array([VKSJSON])

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        }
    }
}
