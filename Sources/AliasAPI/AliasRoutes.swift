import Aliases
import Core
import Foundation
import HTTPService
import Hummingbird

/// The alias manager's HTTP API, version 1. Every route acts for one account (`:account` in the path)
/// on behalf of a caller holding a bearer token (the webmail backend, a provisioning system); the
/// caller's token name goes to the audit log.
///
/// | method | path | body | answer |
/// |---|---|---|---|
/// | POST | /v1/accounts | `{"primaryAddress"}` | 201 account |
/// | GET | /v1/accounts/:account | | account |
/// | POST | /v1/accounts/:account/close | | account |
/// | GET | /v1/accounts/:account/addresses | | `{"addresses": […]}` |
/// | POST | /v1/accounts/:account/aliases | `{"address"}` | 201 address |
/// | POST | /v1/accounts/:account/aliases/:address/disable, …/enable | | address |
/// | DELETE | /v1/accounts/:account/aliases/:address | | 204, or 403 `alias_deletion_forbidden` |
/// | GET | /v1/accounts/:account/domains | | `{"domains": […]}` platform and own custom |
/// | POST | /v1/accounts/:account/domains | `{"name"}` | 201 custom domain |
enum AliasRoutes {
    struct NewAccount: Decodable { let primaryAddress: String }
    struct NewAlias: Decodable { let address: String }
    struct NewDomain: Decodable { let name: String }
    struct Addresses: Encodable { let addresses: [AddressRecord] }
    struct Domains: Encodable { let domains: [DomainRecord] }

    static let bodyLimit = 16 * 1024

    static func add(to group: RouterGroup<ServiceRequestContext>, directory: AliasDirectory) {
        group.post("accounts") { request, context in
            let body = try await request.decodeJSON(NewAccount.self, limit: bodyLimit)
            return JSONResponse(.created, try await directory.createAccount(primary: body.primaryAddress, by: actor(context)))
        }
        group.get("accounts/:account") { _, context in
            JSONResponse(try await directory.account(try account(context)))
        }
        group.post("accounts/:account/close") { _, context in
            JSONResponse(try await directory.closeAccount(try account(context), by: actor(context)))
        }
        group.get("accounts/:account/addresses") { _, context in
            JSONResponse(Addresses(addresses: try await directory.addresses(of: try account(context))))
        }
        group.post("accounts/:account/aliases") { request, context in
            let body = try await request.decodeJSON(NewAlias.self, limit: bodyLimit)
            return JSONResponse(.created, try await directory.createAlias(body.address, for: try account(context), by: actor(context)))
        }
        group.post("accounts/:account/aliases/:address/disable") { _, context in
            JSONResponse(try await directory.setEnabled(false, try address(context), of: try account(context), by: actor(context)))
        }
        group.post("accounts/:account/aliases/:address/enable") { _, context in
            JSONResponse(try await directory.setEnabled(true, try address(context), of: try account(context), by: actor(context)))
        }
        group.delete("accounts/:account/aliases/:address") { _, context -> Response in
            try await directory.deleteAlias(try address(context), of: try account(context), by: actor(context))
            return Response(status: .noContent)
        }
        group.get("accounts/:account/domains") { _, context in
            JSONResponse(Domains(domains: try await directory.domains(for: try account(context))))
        }
        group.post("accounts/:account/domains") { request, context in
            let body = try await request.decodeJSON(NewDomain.self, limit: bodyLimit)
            return JSONResponse(.created, try await directory.addCustomDomain(body.name, for: try account(context), by: actor(context)))
        }
    }

    static func actor(_ context: ServiceRequestContext) -> AliasDirectory.Actor {
        AliasDirectory.Actor(name: "api:\(context.caller ?? "-")")
    }

    static func account(_ context: ServiceRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("account"), let id = Int64(text), id > 0 else {
            throw APIError(.notFound, code: AliasError.Code.accountNotFound.rawValue, "the account in the path must be a positive integer")
        }
        return id
    }

    /// The address path segment, percent-decoded once (clients escape `@`, `+` and UTF-8).
    static func address(_ context: ServiceRequestContext) throws -> String {
        guard let raw = context.parameters.get("address"), let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw APIError(.unprocessableContent, code: AliasError.Code.invalidAddress.rawValue, "the address in the path is not validly percent-encoded")
        }
        return decoded
    }
}
