import Core
import Foundation
import HTTPService
import Hummingbird
import KeyDiscovery
import Keystore
import VKSSync

/// Signature validation through the VKS, and publishing a user's key there with their consent.
///
/// | method | path | body | answer |
/// |---|---|---|---|
/// | GET | /v1/signers/:fingerprint | | 200 `SignerCheck.Answer` (`fresh: false` when the VKS did not answer and the status is the last known); 404 `key_not_found`; 502 `vks_unavailable` (with `Retry-After` when the VKS named one) |
/// | POST | /v1/accounts/:account/keys/:fingerprint/vks | `{"addresses": […]}` | 200 `{"addresses": [{address, state, updatedAt}]}`; 404, 422 as the keystore refuses; 502 `vks_unavailable` |
/// | GET | /v1/accounts/:account/keys/:fingerprint/vks | | 200 the same, as last recorded |
///
/// A signer's `:fingerprint` is the signature's issuer fingerprint: a primary key's or a subkey's, 40 or 64 hex digits.
enum VKSRoutes {
    struct Publish: Decodable { let addresses: [String] }
    struct Published: ResponseEncodable { let addresses: [VKSPublicationState] }

    static func add(to group: RouterGroup<ServiceRequestContext>, publication: VKSKeyPublication) {
        group.post("accounts/:account/keys/:fingerprint/vks") { request, context in
            let account = try KeystoreRoutes.account(context)
            let fingerprint = try fingerprint(context)
            let wanted = try await request.decodeJSON(Publish.self, limit: 8192)
            do {
                return JSONResponse(Published(addresses: try await publication.publish(account: account, fingerprint: fingerprint, addresses: wanted.addresses,
                                                                                      by: KeystoreRoutes.actor(context))))
            } catch let error as VKSError {
                var failure = APIError(.badGateway, code: "vks_unavailable", "the VKS did not take the key: \(error)")
                if let header = DiscoveryRoutes.seconds(until: error.retryAfter, now: Date()) { failure.headers[.retryAfter] = header }
                throw failure
            }
        }
        group.get("accounts/:account/keys/:fingerprint/vks") { _, context in
            JSONResponse(Published(addresses: try await publication.states(account: try KeystoreRoutes.account(context), fingerprint: try fingerprint(context))))
        }
    }

    static func fingerprint(_ context: ServiceRequestContext) throws -> Fingerprint {
        let text = context.parameters.get("fingerprint") ?? ""
        guard let fingerprint = try? Fingerprint(text) else {
            throw APIError(.badRequest, code: "invalid_request", "not a fingerprint (40 or 64 hexadecimal digits): \(text.prefix(80))")
        }
        return fingerprint
    }

    static func add(to group: RouterGroup<ServiceRequestContext>, signers: SignerCheck) {
        group.get("signers/:fingerprint") { _, context in
            let issuer = try fingerprint(context)
            do {
                return JSONResponse(try await signers.check(issuer: issuer))
            } catch SignerCheck.Failure.notFound(let message) {
                throw APIError(.notFound, code: "key_not_found", message)
            } catch SignerCheck.Failure.unavailable(let message, let retryAfter) {
                var failure = APIError(.badGateway, code: "vks_unavailable", message)
                if let header = DiscoveryRoutes.seconds(until: retryAfter, now: Date()) { failure.headers[.retryAfter] = header }
                throw failure
            }
        }
    }
}
