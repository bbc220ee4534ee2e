import Core
import HTTPService
import Hummingbird
import KeyDiscovery
import Keystore
import VKSSync
import Logging
import ServiceLifecycle

/// Builds the `palisade-keystore` HTTP service: the v1 API behind bearer tokens, `/healthz` and
/// `/metrics`. The executable and the tests both call this.
public enum KeystoreApplication {
    /// `lookup` nil leaves out the look-up routes (tests of the keystore alone); the service always has one.
    public static func router(keystore: AccountKeystore, lookup: KeyLookup? = nil, signers: SignerCheck? = nil,
                              publication: VKSKeyPublication? = nil, tokens: BearerTokens) -> Router<ServiceRequestContext> {
        ServiceApplication.router(pool: keystore.pool, tokens: tokens, errors: errors(keystore)) { v1 in
            KeystoreRoutes.add(to: v1, keystore: keystore)
            if let lookup { DiscoveryRoutes.add(to: v1, keystore: keystore, lookup: lookup) }
            if let signers { VKSRoutes.add(to: v1, signers: signers) }
            if let publication { VKSRoutes.add(to: v1, publication: publication) }
        }
    }

    /// `onListening` receives the bound port (useful with port 0).
    public static func make(
        keystore: AccountKeystore, lookup: KeyLookup? = nil, signers: SignerCheck? = nil, publication: VKSKeyPublication? = nil,
        tokens: BearerTokens, host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        ServiceApplication.make(router(keystore: keystore, lookup: lookup, signers: signers, publication: publication, tokens: tokens), serverName: "palisade-keystore", host: host, port: port,
                                logger: logger, onListening: onListening)
    }

    /// Each `KeystoreError` code with a deliberate status: 422 for a key or binding that can never be
    /// accepted, 413 for an oversize import, 404 for what does not exist, 409 for a conflict with state.
    static func errors(_ keystore: AccountKeystore) -> ServiceErrorMiddleware {
        ServiceErrorMiddleware(
            translate: { error in
                switch error as? KeyLookupError {
                case .invalidAddress(let message)?: return APIError(.badRequest, code: "invalid_address", message)
                case .invalidFingerprint(let message)?: return APIError(.badRequest, code: "invalid_request", message)
                case .keyNotFound(let message)?: return APIError(.notFound, code: KeystoreError.Code.keyNotFound.rawValue, message)
                case .lookupFailed(let message, _)?: return APIError(.badGateway, code: "lookup_failed", message)
                case nil: break
                }
                guard let refusal = error as? KeystoreError else { return nil }
                return APIError(status(of: refusal.code), code: refusal.code.rawValue, refusal.message)
            },
            auditRefusal: { refusal, request, context in
                await keystore.recordRefusal("http.request", by: KeystoreRoutes.actor(context),
                                             subject: "\(request.method) \(request.uri.path.prefix(300))", code: refusal.code, message: refusal.message)
            }
        )
    }

    static func status(of code: KeystoreError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidKey, .secretKeyMaterial, .noValidSelfSignature, .userIDMismatch, .unprotectedSecretKey: .unprocessableContent
        case .keyTooLarge: .contentTooLarge
        case .keyNotFound, .accountNotFound, .addressNotFound, .notBound: .notFound
        case .accountClosed, .keyNotUsable: .conflict
        default: .badRequest
        }
    }
}
