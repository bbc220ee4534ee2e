import Foundation
import Logging
import Hummingbird

/// Refuses every request without a valid `Authorization: Bearer <token>` (401 with a
/// `WWW-Authenticate` challenge, RFC 6750) and records who the token belongs to in the context.
public struct BearerTokenMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let tokens: BearerTokens

    public init(tokens: BearerTokens) {
        self.tokens = tokens
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw Self.refusal("the request has no Authorization: Bearer header", error: nil)
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.refusal("the Authorization header is not a Bearer token", error: "invalid_request")
        }
        guard let holder = tokens.holder(of: parts[1].trimmingCharacters(in: .whitespaces)) else {
            context.logger.notice("refused an unknown bearer token", metadata: ["http.path": "\(request.uri.path)"])
            throw Self.refusal("the bearer token is not valid", error: "invalid_token")
        }
        var context = context
        context.caller = holder
        context.logger[metadataKey: "caller"] = "\(holder)"
        return try await next(request, context)
    }

    static func refusal(_ message: String, error: String?) -> APIError {
        let challenge = error.map { "Bearer realm=\"palisade\", error=\"\($0)\"" } ?? "Bearer realm=\"palisade\""
        return APIError(.unauthorized, code: "unauthorized", message, headers: [.wwwAuthenticate: challenge])
    }
}
