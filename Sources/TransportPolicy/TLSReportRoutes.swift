import Core
import HTTPService
import Hummingbird
import Synchronization
import TLSReporting

/// TLS reports by HTTPS POST (RFC 8460 §5.4) at `tlsrpt.path`: `application/tlsrpt+gzip` or
/// `application/tlsrpt+json`, at most `tlsrpt.maxCompressedSize` / `tlsrpt.maxReportSize` bytes.
/// 201 when stored, 200 for a report stored already (so the reporter stops retrying), 4xx with a JSON
/// error naming what is wrong for a refused one, 503 when PostgreSQL cannot be reached or `maxConcurrent`
/// reports are being read already (try again).
public enum TLSReportRoutes {
    /// Adds `POST path` to `router` (the plain and the HTTPS listener each get it, sharing `intake` and the limit on reports at once).
    public static func add(to router: Router<ServiceRequestContext>, path: String, intake: TLSReportIntake, limits: TLSReportPayload.Limits,
                           inFlight: InFlight) {
        let group = router.group(RouterPath(path)).add(middleware: ServiceErrorMiddleware(translate: { error in
            (error as? TLSReportError).map(apiError)
        }, auditRefusal: { _, _, _ in }))
        let busy = APIError(.serviceUnavailable, code: "busy", "too many reports at once; try again shortly", headers: [.retryAfter: "60"])
        group.post { request, _ -> JSONResponse<Answer> in
            guard inFlight.bodies.enter() else { throw busy }
            defer { inFlight.bodies.leave() }
            let contentType = request.headers[.contentType] ?? ""
            guard var format = TLSReportPayload.Format(mediaType: contentType) else {
                let refusal = TLSReportError(.unsupportedMediaType, "a TLS report is application/tlsrpt+gzip or application/tlsrpt+json, not \"\(contentType.prefix(80))\"")
                intake.refused(refusal, origin: .https)
                throw refusal
            }
            // Some senders gzip the JSON with a transfer coding instead of the +gzip type.
            if let coding = request.headers[.contentEncoding]?.lowercased(), coding == "gzip" || coding == "x-gzip" { format = .gzip }
            let limit = format == .gzip ? limits.compressed : limits.json
            let tooLarge = TLSReportError(.tooLarge, "the body is larger than \(limit) bytes")
            let body: ByteBuffer
            do {
                body = try await withDeadline(bodyDeadline) { try await request.collectBody(limit: limit, tooLarge: apiError(tooLarge)) }
            } catch let error as APIError where error.status == .contentTooLarge {
                intake.refused(tooLarge, origin: .https)
                throw error
            }
            // Only a whole body takes one of the slots where reports are parsed and stored: a slow sender holds none.
            guard inFlight.reports.enter() else { throw busy }
            defer { inFlight.reports.leave() }
            let received = try await intake.receive(TLSReportPayload(format: format, bytes: Array(body.readableBytesView)), origin: .https)
            let answer = Answer(status: received.stored.outcome, reportID: received.report.reportID, id: received.stored.id)
            if case .stored = received.stored { return JSONResponse(.created, answer) }
            return JSONResponse(.ok, answer)
        }
    }

    /// How long a report's body may take to arrive.
    static let bodyDeadline = Duration.seconds(30)

    /// `body`'s result, or 408 when it takes longer than `limit`.
    static func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw APIError(.requestTimeout, code: "request_timeout", "the body did not arrive within \(limit.components.seconds) s")
            }
            return value
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

extension TLSReportRoutes {
    /// What the intake does at once, shared by both listeners: reports parsed and stored (at most
    /// `tlsrpt.maxConcurrent`), and bodies arriving (eight times as many: they wait on the network, but each
    /// may be as large as the limit).
    public struct InFlight: Sendable {
        let reports: Gate
        let bodies: Gate

        public init(reports limit: Int) {
            reports = Gate(limit: limit)
            bodies = Gate(limit: limit * 8)
        }
    }

    /// At most `limit` at once.
    final class Gate: Sendable {
        private let count = Mutex(0)
        let limit: Int

        init(limit: Int) {
            self.limit = limit
        }

        func enter() -> Bool {
            count.withLock { count in
                guard count < limit else { return false }
                count += 1
                return true
            }
        }

        func leave() {
            count.withLock { $0 -= 1 }
        }
    }
}
