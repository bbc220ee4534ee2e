import Core
import HTTPService
import Hummingbird
import TLSReporting

/// TLS reports by HTTPS POST (RFC 8460 §5.4) at `tlsrpt.path`: `application/tlsrpt+gzip` or
/// `application/tlsrpt+json`, at most `tlsrpt.maxCompressedSize` / `tlsrpt.maxReportSize` bytes.
/// 201 when stored, 200 for a report stored already (so the reporter stops retrying), 4xx with a JSON
/// error naming what is wrong for a refused one, 503 when PostgreSQL cannot be reached (try again).
public enum TLSReportRoutes {
    public static func add(to router: Router<ServiceRequestContext>, path: String, intake: TLSReportIntake, limits: TLSReportPayload.Limits) {
        let group = router.group(RouterPath(path)).add(middleware: ServiceErrorMiddleware(translate: { error in
            (error as? TLSReportError).map(apiError)
        }, auditRefusal: { _, _, _ in }))
        group.post { request, _ -> JSONResponse<Answer> in
            let contentType = request.headers[.contentType] ?? ""
            guard var format = TLSReportPayload.Format(mediaType: contentType) else {
                throw APIError(.unsupportedMediaType, code: TLSReportError.Kind.unsupportedMediaType.rawValue,
                               "a TLS report is application/tlsrpt+gzip or application/tlsrpt+json, not \"\(contentType.prefix(80))\"")
            }
            // Some senders gzip the JSON with a transfer coding instead of the +gzip type.
            if request.headers[.contentEncoding]?.lowercased() == "gzip" { format = .gzip }
            let limit = format == .gzip ? limits.compressed : limits.json
            let body = try await request.collectBody(limit: limit, tooLarge: APIError(
                .contentTooLarge, code: TLSReportError.Kind.tooLarge.rawValue, "the body is larger than \(limit) bytes"))
            let received = try await intake.receive(TLSReportPayload(format: format, bytes: Array(body.readableBytesView)), origin: .https)
            switch received.stored {
            case .stored(let id):
                return JSONResponse(.created, Answer(status: "stored", reportID: received.report.reportID, id: id))
            case .duplicate(let id, _):
                return JSONResponse(.ok, Answer(status: "duplicate", reportID: received.report.reportID, id: id))
            }
        }
    }

    struct Answer: Encodable, Sendable {
        var status: String
        var reportID: String
        var id: Int64

        enum CodingKeys: String, CodingKey {
            case status, reportID = "report_id", id
        }
    }

    static func apiError(_ error: TLSReportError) -> APIError {
        let status: HTTPResponse.Status = switch error.kind {
        case .tooLarge: .contentTooLarge
        case .badCompression, .invalid: .badRequest
        case .foreignDomain: .unprocessableContent
        case .unsupportedMediaType: .unsupportedMediaType
        }
        return APIError(status, code: error.kind.rawValue, error.message)
    }
}
