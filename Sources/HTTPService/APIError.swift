import Foundation
import Hummingbird

/// An HTTP API refusal: a deliberate status and a JSON body `{"error": {"code": …, "message": …}}`
/// whose `code` clients act on. Messages are written for the caller and never carry internals (SQL,
/// stack traces, secrets).
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.cacheControl] = "no-store"
        let data = try JSONResponse.encoder.encode(Body(error: .init(code: code, message: message)))
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, code: "invalid_request", message) }
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message) }
    public static let unavailable = APIError(.serviceUnavailable, code: "unavailable", "the service cannot reach its database; try again shortly")
}
