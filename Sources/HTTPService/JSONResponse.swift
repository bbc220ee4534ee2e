import Foundation
import Hummingbird

/// A JSON body with a status: how every API answer that carries data is written, with one encoder
/// (sorted keys, ISO 8601 dates) so answers are stable for clients and tests.
public struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator, Sendable {
    public let status: HTTPResponse.Status
    public let value: Value

    public init(_ status: HTTPResponse.Status, _ value: Value) {
        self.status = status
        self.value = value
    }

    /// 200 OK.
    public init(_ value: Value) {
        self.init(.ok, value)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONResponse<Int>.encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension JSONResponse where Value == Int {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
