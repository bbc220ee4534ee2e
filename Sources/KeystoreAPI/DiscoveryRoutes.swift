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
/// | POST | /v1/accounts/:account/keys/discovered | `{"email", "fingerprint"}` | `{"imported": […]}` |
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
            let refresh = request.uri.queryParameters.get("refresh") == "true"
            let answer = try await lookup.lookup(email, refresh: refresh)
            var response = try JSONResponse(status(of: answer), answer).response(from: request, context: context)
            if answer.outcome == .failed, let retryAfter = answer.retryAfter {
                response.headers[.retryAfter] = String(max(1, Int(retryAfter.timeIntervalSinceNow.rounded(.up))))
            }
            return response
        }
        group.post("accounts/:account/keys/discovered") { request, context in
            let account = try KeystoreRoutes.account(context)
            let wanted = try await request.decodeJSON(Discovered.self, limit: 4096)
            let answer = try await lookup.lookup(wanted.email)
            guard let key = answer.keys.first(where: { $0.fingerprint.hex == wanted.fingerprint.uppercased() }), let source = answer.source else {
                let said = answer.outcome == .found ? "found \(answer.keys.map(\.fingerprint.hex).joined(separator: ", "))" : answer.outcome.rawValue
                throw APIError(.notFound, code: KeystoreError.Code.keyNotFound.rawValue,
                               "the look-up of \(answer.email) did not find key \(wanted.fingerprint.prefix(64)) (it said: \(said))")
            }
            let results = try await keystore.importCertificates(key.certificate, for: account, source: KeySource(source), by: KeystoreRoutes.actor(context))
            return JSONResponse(KeystoreRoutes.Imported(imported: results))
        }
    }

    static func status(of answer: LookupAnswer) -> HTTPResponse.Status {
        switch answer.outcome {
        case .found: .ok
        case .notFound: .notFound
        case .failed: .badGateway
        }
    }
}

extension KeySource {
    init(_ source: DiscoverySource) {
        switch source {
        case .wkd: self = .wkd
        case .vks: self = .vks
        case .local: self = .local
        }
    }
}
