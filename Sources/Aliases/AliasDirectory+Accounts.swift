import Core
import Foundation

extension AliasDirectory {
    /// Opens an account whose primary address (its login and mailbox) is `primary`, on a platform domain.
    public func createAccount(primary text: String, by actor: Actor) async throws -> AccountRecord {
        let action = "account.create"
        let address: EmailAddress
        do {
            address = try rules.parse(text)
        } catch {
            throw await refuse(error, action, by: actor, subject: String(text.prefix(300)))
        }
        return try await change(action, by: actor, subject: address.canonical) { connection in
            let domain = try await connection.query("SELECT id, kind::text AS kind FROM domains WHERE name = \(address.domain.ascii)").first
            guard let domain, try domain.decode("kind", as: String.self) == "platform" else {
                throw AliasError(.domainNotAllowed, "\(address.domain) is not a platform domain: a primary address is on one of the provider's domains")
            }
            if !actor.allowReserved, rules.isReserved(address) {
                throw AliasError(.reservedAddress, "\(address.localPart) is a reserved role name on platform domains (aliases.reservedLocalParts)")
            }
            let id: Int64 = try await connection.query("INSERT INTO accounts DEFAULT VALUES RETURNING id").first!.decode("id")
            _ = try await insertAddress(address, domain: try domain.decode("id"), account: id, kind: "primary", aliasLimit: nil, on: connection)
            try await enqueueRefresh([address.canonical], on: connection)
            return try await accountRecord(id, on: connection)
        }
    }

    public func account(_ id: Int64) async throws -> AccountRecord {
        try await pool.withConnection { try await accountRecord(id, on: $0) }
    }

    func accountRecord(_ id: Int64, on connection: PostgresConnection) async throws -> AccountRecord {
        let rows = try await connection.query("""
            SELECT c.id, c.state, c.created_at, c.closed_at, p.address AS primary_address
            FROM accounts c LEFT JOIN addresses p ON p.account_id = c.id AND p.kind = 'primary'
            WHERE c.id = \(id)
            """)
        guard let row = rows.first else { throw AliasError(.accountNotFound, "there is no account \(id)") }
        return try Self.accountRecord(row)
    }

    static func accountRecord(_ row: PostgresRow) throws -> AccountRecord {
        AccountRecord(id: try row.decode("id"), state: try row.decode("state"), primaryAddress: try row.decodeIfPresent("primary_address"),
                      createdAt: try row.decode("created_at"), closedAt: try row.decodeIfPresent("closed_at"))
    }

    /// Every account, newest first, for operators (the API has no listing: nothing enumerates addresses).
    public func accounts(limit: Int = 1000) async throws -> [AccountRecord] {
        let rows = try await pool.query("""
            SELECT c.id, c.state, c.created_at, c.closed_at, p.address AS primary_address
            FROM accounts c LEFT JOIN addresses p ON p.account_id = c.id AND p.kind = 'primary'
            ORDER BY c.id DESC LIMIT \(limit)
            """)
        return try rows.map(Self.accountRecord)
    }

    /// Closes an account: its addresses stop receiving and sending (Postfix's maps leave closed accounts
    /// out), WKD stops serving them, and they stay reserved to it for ever.
    public func closeAccount(_ id: Int64, by actor: Actor) async throws -> AccountRecord {
        try await change("account.close", by: actor, subject: "account:\(id)") { connection in
            try await lockActiveAccount(id, on: connection)
            try await connection.query("UPDATE accounts SET state = 'closed', closed_at = now() WHERE id = \(id)")
            let addresses = try await connection.query("SELECT address FROM addresses WHERE account_id = \(id)")
            try await enqueueRefresh(try addresses.map { try $0.decode("address") }, on: connection)
            return try await accountRecord(id, on: connection)
        }
    }
}
