import Foundation
import Hummingbird

extension Request {
    /// Reads and decodes a JSON body of at most `limit` bytes. Too large, not JSON, or missing a field:
    /// an `APIError` that says which, before anything is done with the request.
    public func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let buffer = try await collectBody(limit: limit, tooLarge: APIError(.contentTooLarge, code: "request_too_large", "the request body is larger than \(limit) bytes"))
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("the request needs a JSON body") }
        if let contentType = headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "the body must be application/json, not \(contentType.prefix(80))")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest(Self.explain(error))
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
    }

    /// The whole body, refused with `tooLarge` beyond `limit` bytes: at once when Content-Length says
    /// so, else as soon as more has arrived (a chunked body is never read past the limit).
    public func collectBody(limit: Int, tooLarge: APIError) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }
        do {
            return try await body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }

    static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "the body" : "\"" + keys.joined(separator: ".") + "\""
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.map(\.stringValue)
            return "the field \"\((parent + [key.stringValue]).joined(separator: "."))\" is missing"
        case .typeMismatch(let type, let context): return "\(path(context)) must be \(Self.name(type))"
        case .valueNotFound(let type, let context): return "\(path(context)) must be \(Self.name(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context)) is invalid: \(context.debugDescription)"
        @unknown default: return "the body could not be read"
        }
    }

    static func name(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "an integer"
        default: "a JSON \(type)"
        }
    }
}
