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
            if answer.outcome == .failed, let header = retryAfter(answer, lookup) { response.headers[.retryAfter] = header }
            return response
        }
        group.post("accounts/:account/keys/discovered") { request, context in
            let account = try KeystoreRoutes.account(context)
            let wanted = try await request.decodeJSON(Discovered.self, limit: 4096)
            guard let fingerprint = try? Fingerprint(wanted.fingerprint) else {
                throw APIError(.badRequest, code: "invalid_request", "\(wanted.fingerprint.prefix(80)) is not a fingerprint (40 or 64 hex digits)")
            }
            let answer = try await lookup.lookup(wanted.email)
            let found = answer.keys.contains { $0.fingerprint == fingerprint }
            // No key to import and a source failed (the key may be in the one that failed): a failure, not "not found".
            if !found && answer.attempts.contains(where: { $0.result == .failed }) {
                var failure = APIError(.badGateway, code: "lookup_failed",
                                       "the look-up of \(answer.email) failed, so there is no key to import yet: \(failures(answer))")
                if let header = retryAfter(answer, lookup) { failure.headers[.retryAfter] = header }
                throw failure
            }
            guard let key = answer.keys.first(where: { $0.fingerprint == fingerprint }), let source = answer.source else {
                let said = answer.outcome == .found ? "found \(answer.keys.map(\.fingerprint.hex).joined(separator: ", "))" : answer.outcome.rawValue
                throw APIError(.notFound, code: KeystoreError.Code.keyNotFound.rawValue,
                               "the look-up of \(answer.email) did not find key \(fingerprint.hex) (it said: \(said))")
            }
            let results = try await keystore.importCertificates(key.certificate, for: account, source: KeySource(source), by: KeystoreRoutes.actor(context))
            return JSONResponse(KeystoreRoutes.Imported(imported: results))
        }
    }

    /// Seconds until the latest Retry-After a source gave, by the look-up's clock.
    static func retryAfter(_ answer: LookupAnswer, _ lookup: KeyLookup) -> String? {
        answer.retryAfter.map { String(max(1, Int($0.timeIntervalSince(lookup.currentTime).rounded(.up)))) }
    }

    static func failures(_ answer: LookupAnswer) -> String {
        answer.attempts.filter { $0.result == .failed }.map { "\($0.source.rawValue): \($0.detail ?? "failed")" }.joined(separator: "; ")
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
