import Core
import Logging

/// WKD as a service for customers' domains: the customer points `openpgpkey.<their domain>` (or the
/// domain itself) at us, and an operator turns the service on. Turning it on or off enqueues
/// `wkd.refresh` for every address of the domain with a bound key, in the same audited transaction, so
/// their entries appear or go.
public struct WKDServiceDomains: Sendable {
    let audited: AuditedChanges

    public init(pool: PostgresPool, logger: Logger) {
        audited = AuditedChanges(pool: pool, logger: logger, metric: "palisade_wkd_service_changes_total")
    }

    /// Why a change of the service was refused.
    public struct Refusal: AuditableRefusal, CustomStringConvertible {
        public let code: String
        public let message: String
        public var auditCode: String { code }
        public var auditMessage: String { message }
        public var description: String { "\(code): \(message)" }
    }

    /// Serves `domain` (a custom domain) from now on; whether it was off before.
    @discardableResult
    public func enable(_ domain: String, by actor: String) async throws -> Bool {
        try await change("wkd.service.enable", domain, by: actor) { id, connection in
            try await !connection.query("""
                INSERT INTO wkd_service_domains (domain_id) VALUES (\(id)) ON CONFLICT (domain_id) DO NOTHING RETURNING 1 AS added
                """).isEmpty
        }
    }

    /// Stops serving `domain`; whether it was on.
    @discardableResult
    public func disable(_ domain: String, by actor: String) async throws -> Bool {
        try await change("wkd.service.disable", domain, by: actor) { id, connection in
            try await !connection.query("DELETE FROM wkd_service_domains WHERE domain_id = \(id) RETURNING 1 AS removed").isEmpty
        }
    }

    func change(_ action: String, _ name: String, by actor: String,
                _ body: @escaping (Int64, PostgresConnection) async throws -> Bool) async throws -> Bool {
        let domain: DomainName
        do {
            domain = try DomainName(name)
        } catch {
            let refusal = Refusal(code: "invalid_domain", message: "\(error)")
            await audited.record(refusal, action, by: actor, subject: String(name.prefix(253)))
            throw refusal
        }
        return try await audited.change(action, by: actor, subject: domain.ascii) { connection in
            guard let row = try await connection.query("SELECT id, kind::text AS kind FROM domains WHERE name = \(domain.ascii)").first else {
                throw Refusal(code: "domain_not_found", message: "\(domain.ascii) is not a domain of the platform or of a customer")
            }
            guard try row.decode("kind", as: String.self) == "custom" else {
                throw Refusal(code: "platform_domain", message: "\(domain.ascii) is a platform domain: it is always served")
            }
            let id: Int64 = try row.decode("id")
            let changed = try await body(id, connection)
            if changed {
                let addresses: [String] = try await connection.query("""
                    SELECT a.address FROM addresses a JOIN key_addresses b ON b.address_id = a.id WHERE a.domain_id = \(id)
                    """).map { try $0.decode("address") }
                _ = try await JobQueue.enqueue(batch: addresses.map { try WKDRefreshJob.make(canonicalAddress: $0) }, on: connection)
            }
            return changed
        }
    }
}
