import Aliases
import HTTPService
import Hummingbird

/// The alias API's error mapping: each `AliasError` code gets a deliberate status — 422 for an address or
/// domain that can never be accepted, 409 for a conflict with what exists, 404 for an unknown account or
/// address, 403 for a rule that forbids the change.
enum AliasErrorMapping {
    static func middleware(_ directory: AliasDirectory) -> ServiceErrorMiddleware {
        ServiceErrorMiddleware(
            translate: { error in
                guard let refusal = error as? AliasError else { return nil }
                return APIError(status(of: refusal.code), code: refusal.code.rawValue, refusal.message)
            },
            auditRefusal: { refusal, request, context in
                await directory.recordRefusal(
                    "http.request", by: AliasRoutes.actor(context), subject: "\(request.method) \(request.uri.path.prefix(300))",
                    code: refusal.code, message: refusal.message
                )
            }
        )
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
