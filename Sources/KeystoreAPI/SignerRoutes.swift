import Core
import Foundation
import HTTPService
import Hummingbird
import VKSSync

/// Signature validation through the VKS.
///
/// | method | path | answer |
/// |---|---|---|
/// | GET | /v1/signers/:fingerprint | 200 `SignerCheck.Answer` (`fresh: false` when the VKS did not answer and the status is the last known); 404 `key_not_found`; 502 `vks_unavailable` (with `Retry-After` when the VKS named one) |
///
/// `:fingerprint` is the signature's issuer fingerprint: a primary key's or a subkey's, 40 or 64 hex digits.
enum SignerRoutes {
    static func add(to group: RouterGroup<ServiceRequestContext>, signers: SignerCheck) {
        group.get("signers/:fingerprint") { _, context in
            let text = context.parameters.get("fingerprint") ?? ""
            guard let issuer = try? Fingerprint(text) else {
                throw APIError(.badRequest, code: "invalid_request", "not a fingerprint (40 or 64 hexadecimal digits): \(text.prefix(80))")
            }
            do {
                return JSONResponse(try await signers.check(issuer: issuer))
            } catch SignerCheck.Failure.notFound(let message) {
                throw APIError(.notFound, code: "key_not_found", message)
            } catch SignerCheck.Failure.unavailable(let message, let retryAfter) {
                var failure = APIError(.badGateway, code: "vks_unavailable", message)
                if let retryAfter { failure.headers[.retryAfter] = String(max(1, Int(retryAfter.timeIntervalSinceNow.rounded(.up)))) }
                throw failure
            }
        }
    }
}
