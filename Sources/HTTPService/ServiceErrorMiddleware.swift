import Core
import Hummingbird
import Logging

/// Turns a service's refusals and database failures into the API's JSON errors.
///
/// `translate` maps the service's own errors (its rules' refusals) to an `APIError` with a deliberate
/// status. A PostgreSQL that cannot be reached is 503 `unavailable`; any other database failure is 500
/// with the request ID, logged, and never shown to the caller; so is any other error. Mounted after authentication, so an
/// `APIError` raised before a request reached the rules (a malformed body or path) is handed to
/// `auditRefusal` with the caller known; the rules audit their own refusals.
public struct ServiceErrorMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let translate: @Sendable (any Error) -> APIError?
    let auditRefusal: @Sendable (APIError, Request, Context) async -> Void

    public init(translate: @escaping @Sendable (any Error) -> APIError?,
                auditRefusal: @escaping @Sendable (APIError, Request, Context) async -> Void) {
        self.translate = translate
        self.auditRefusal = auditRefusal
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let refusal as APIError {
            await auditRefusal(refusal, request, context)
            throw refusal
        } catch let error as PostgresError where error.isConnectionProblem || error.code == .poolTimeout || error.code == .poolClosed {
            context.logger.error("database unavailable", metadata: ["error": "\(error)"])
            throw APIError.unavailable
        } catch let error as PostgresError {
            context.logger.error("database error", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, code: "internal_error", "the request failed; it is logged under request \(context.id)")
        } catch let error as any HTTPResponseError {
            // Hummingbird's own answers (a body over the upload limit, say) keep their status.
            throw error
        } catch {
            if let mapped = translate(error) { throw mapped }
            // Anything else is a fault of ours: logged, and answered with the request ID, never its text.
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, code: "internal_error", "the request failed; it is logged under request \(context.id)")
        }
    }
}
