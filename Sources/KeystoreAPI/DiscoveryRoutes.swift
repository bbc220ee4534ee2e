import Core
import Foundation
import HTTPService
import Hummingbird
import KeyDiscovery
import Keystore

/// Finding other people's keys and importing what was found.
///
/// | method | path | body | answer |
/// |---|---|---|---|
/// | GET | /v1/lookup?email=…[&refresh=true] | | 200 found, 404 not found, 502 a source failed; the answer in every case |
/// | POST | /v1/accounts/:account/keys/discovered | `{"email", "fingerprint"}` | `{"imported": […]}`; 404 not found; 502 `lookup_failed` |
///
/// The import takes the key from the look-up (the cached answer, or a new look-up), never from the
/// caller, so the source recorded with it (wkd, vks, local) is the one that really served it.
enum DiscoveryRoutes {
    struct Discovered: Decodable { let email: String; let fingerprint: String }

    static func add(to group: RouterGroup<ServiceRequestContext>, keystore: AccountKeystore, lookup: KeyLookup) {
        group.get("lookup") { request, context -> Response in
            guard let email = request.uri.queryParameters.get("email"), !email.isEmpty else {
                throw APIError(.badRequest, code: "invalid_address", "say whose key to look up: /v1/lookup?email=ADDRESS")
            }
            let refresh: Bool
            switch request.uri.queryParameters.get("refresh") {
            case nil, "false", "0": refresh = false
            case "true", "1": refresh = true
            case let other?: throw APIError(.badRequest, code: "invalid_request", "refresh must be true or false, not \"\(other.prefix(20))\"")
            }
            let answer = try await lookup.lookup(email, refresh: refresh)
            var response = try JSONResponse(status(of: answer), answer).response(from: request, context: context)
            if answer.outcome == .failed, let header = seconds(until: answer.retryAfter, lookup) { response.headers[.retryAfter] = header }
            return response
        }
        group.post("accounts/:account/keys/discovered") { request, context in
            let account = try KeystoreRoutes.account(context)
            let wanted = try await request.decodeJSON(Discovered.self, limit: 4096)
            let found: KeyLookup.Discovered
            do {
                found = try await lookup.discovered(wanted.fingerprint, for: wanted.email)
            } catch KeyLookupError.lookupFailed(let message, let retryAfter) {
                var failure = APIError(.badGateway, code: "lookup_failed", message)
                if let header = seconds(until: retryAfter, lookup) { failure.headers[.retryAfter] = header }
                throw failure
            }
            let results = try await keystore.importCertificates(found.key.certificate, for: account, source: KeySource(rawValue: found.source.rawValue)!,
                                                                by: KeystoreRoutes.actor(context))
            return JSONResponse(KeystoreRoutes.Imported(imported: results))
        }
    }

    /// A `Retry-After` header: the seconds until `date`, by the look-up's clock.
    static func seconds(until date: Date?, _ lookup: KeyLookup) -> String? {
        seconds(until: date, now: lookup.currentTime)
    }

    /// A `Retry-After` header: the whole seconds (at least 1) from `now` until `date`.
    static func seconds(until date: Date?, now: Date) -> String? {
        date.map { String(max(1, Int($0.timeIntervalSince(now).rounded(.up)))) }
    }

    static func status(of answer: LookupAnswer) -> HTTPResponse.Status {
        switch answer.outcome {
        case .found: .ok
        case .notFound: .notFound
        case .failed: .badGateway
        }
    }
}
