import Aliases
import Core
import HTTPService
import Hummingbird
import Logging

/// Turns the alias rules' refusals and database failures into the API's JSON errors, each with a
/// deliberate status: 422 for an address or domain that can never be accepted, 409 for a conflict with
/// what exists, 404 for an unknown account or address, 403 for a rule that forbids the change, 503
/// while PostgreSQL is unreachable.
///
/// It runs after authentication, so a request refused before it reached the rules (a malformed body or
/// path) is audited here with its caller; the rules audit their own refusals.
struct AliasErrorMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let directory: AliasDirectory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let refusal as AliasError {
            throw APIError(Self.status(of: refusal.code), code: refusal.code.rawValue, refusal.message)
        } catch let refusal as APIError {
            await directory.recordRefusal(
                "http.request", by: AliasRoutes.actor(context), subject: "\(request.method) \(request.uri.path.prefix(300))",
                code: refusal.code, message: refusal.message
            )
            throw refusal
        } catch let error as PostgresError where error.isConnectionProblem || error.code == .poolTimeout || error.code == .poolClosed {
            context.logger.error("database unavailable", metadata: ["error": "\(error)"])
            throw APIError.unavailable
        } catch let error as PostgresError {
            context.logger.error("database error", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, code: "internal_error", "the request failed; it is logged under request \(context.id)")
        }
    }

    static func status(of code: AliasError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidAddress, .invalidDomain, .reservedAddress, .domainNotAllowed: .unprocessableContent
        case .addressTaken, .addressExists, .aliasLimitReached, .domainExists, .accountClosed: .conflict
        case .accountNotFound, .addressNotFound: .notFound
        case .aliasDeletionForbidden, .primaryAddressProtected: .forbidden
        default: .badRequest
        }
    }
}
