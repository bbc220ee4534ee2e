import Core
import Foundation
import HTTPService
import Hummingbird
import Keystore

/// The keystore's HTTP API, version 1. The calling webmail backend names the account in the path and
/// holds a bearer token; the token's name goes to the audit log.
///
/// | method | path | body | answer |
/// |---|---|---|---|
/// | POST | /v1/accounts/:account/keys | OpenPGP certificate(s), armored or binary | `{"imported": […]}` |
/// | GET | /v1/accounts/:account/keys | | `{"keys": […]}` |
/// | GET | /v1/accounts/:account/keys/:fingerprint | | key |
/// | DELETE | /v1/accounts/:account/keys/:fingerprint | | 204 |
/// | POST | /v1/accounts/:account/secret-keys | S2K-protected secret key packets | 201 `{"fingerprint"}` |
/// | GET, DELETE | /v1/accounts/:account/secret-keys/:fingerprint | | the packets as stored; 204 |
/// | PUT | /v1/accounts/:account/bindings/:address | `{"fingerprint"}` | 204 |
/// | DELETE | /v1/accounts/:account/bindings/:address | | 204 |
enum KeystoreRoutes {
    struct Imported: Encodable { let imported: [KeyImportResult] }
    struct Keys: Encodable { let keys: [KeyRecord] }
    struct Binding: Decodable { let fingerprint: String }

    static func add(to group: RouterGroup<ServiceRequestContext>, keystore: AccountKeystore) {
        group.post("accounts/:account/keys") { request, context in
            let account = try account(context)
            let body = try await request.collectBody(limit: keystore.maxImportSize, tooLarge: APIError(
                .contentTooLarge, code: KeystoreError.Code.keyTooLarge.rawValue,
                "the import is larger than keystore.maxImportSize (\(keystore.maxImportSize) bytes)"))
            let results = try await keystore.importCertificates(Array(body.readableBytesView), for: account, source: .upload, by: actor(context))
            return JSONResponse(Imported(imported: results))
        }
        group.get("accounts/:account/keys") { _, context in
            JSONResponse(Keys(keys: try await keystore.keys(of: try account(context))))
        }
        group.get("accounts/:account/keys/:fingerprint") { _, context in
            JSONResponse(try await keystore.key(try segment("fingerprint", context), of: try account(context)))
        }
        group.delete("accounts/:account/keys/:fingerprint") { _, context -> Response in
            try await keystore.deleteKey(try segment("fingerprint", context), of: try account(context), by: actor(context))
            return Response(status: .noContent)
        }
        group.post("accounts/:account/secret-keys") { request, context in
            let account = try account(context)
            let body = try await request.collectBody(limit: 1 << 20, tooLarge: APIError(
                .contentTooLarge, code: KeystoreError.Code.keyTooLarge.rawValue, "a secret key is at most 1 MiB"))
            let fingerprint = try await keystore.storeSecretKey(Array(body.readableBytesView), for: account, by: actor(context))
            return JSONResponse(.created, ["fingerprint": fingerprint])
        }
        group.get("accounts/:account/secret-keys/:fingerprint") { _, context -> Response in
            let packets = try await keystore.secretKey(try segment("fingerprint", context), of: try account(context))
            return Response(status: .ok, headers: [.contentType: "application/pgp-keys", .cacheControl: "no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: packets)))
        }
        group.delete("accounts/:account/secret-keys/:fingerprint") { _, context -> Response in
            try await keystore.deleteSecretKey(try segment("fingerprint", context), of: try account(context), by: actor(context))
            return Response(status: .noContent)
        }
        group.put("accounts/:account/bindings/:address") { request, context -> Response in
            let binding = try await request.decodeJSON(Binding.self, limit: 4096)
            try await keystore.bind(try segment("address", context), to: binding.fingerprint, of: try account(context), by: actor(context))
            return Response(status: .noContent)
        }
        group.delete("accounts/:account/bindings/:address") { _, context -> Response in
            try await keystore.unbind(try segment("address", context), of: try account(context), by: actor(context))
            return Response(status: .noContent)
        }
    }

    static func actor(_ context: ServiceRequestContext) -> String { "api:\(context.caller ?? "-")" }

    static func account(_ context: ServiceRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("account"), let id = Int64(text), id > 0 else {
            throw APIError(.notFound, code: KeystoreError.Code.accountNotFound.rawValue, "the account in the path must be a positive integer")
        }
        return id
    }

    /// A path segment, percent-decoded once (addresses escape `@`, `+` and UTF-8).
    static func segment(_ name: String, _ context: ServiceRequestContext) throws -> String {
        guard let raw = context.parameters.get(name), let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw APIError(.badRequest, code: "invalid_request", "the \(name) in the path is not validly percent-encoded")
        }
        return decoded
    }
}
