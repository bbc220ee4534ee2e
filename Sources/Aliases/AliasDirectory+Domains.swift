import Core
import Foundation

extension AliasDirectory {
    /// Registers a customer's own domain for `account`. A name equal to, under or above a platform
    /// domain is refused: it would let a customer hand out addresses in the provider's namespace.
    public func addCustomDomain(_ text: String, for account: Int64, by actor: Actor) async throws -> DomainRecord {
        let action = "domain.create"
        let details = ["account": String(account), "kind": "custom"]
        let name: DomainName
        do {
            name = try Self.parseDomain(text)
        } catch {
            throw await refuse(error, action, by: actor, subject: String(text.prefix(300)), details: details)
        }
        return try await change(action, by: actor, subject: name.ascii, details: details) { connection in
            try await lockActiveAccount(account, on: connection)
            try await checkNewDomain(name, kind: "custom", account: account, on: connection)
            return try await insertDomain(name, kind: "custom", account: account, on: connection)
        }
    }

    /// Registers one of the provider's own domains (operators only, through platformctl).
    public func addPlatformDomain(_ text: String, by actor: Actor) async throws -> DomainRecord {
        let action = "domain.create"
        let details = ["kind": "platform"]
        let name: DomainName
        do {
            name = try Self.parseDomain(text)
        } catch {
            throw await refuse(error, action, by: actor, subject: String(text.prefix(300)), details: details)
        }
        return try await change(action, by: actor, subject: name.ascii, details: details) { connection in
            try await checkNewDomain(name, kind: "platform", on: connection)
            return try await insertDomain(name, kind: "platform", account: nil, on: connection)
        }
    }

    /// The platform domains and, with `account`, that account's custom domains; without it, all.
    public func domains(for account: Int64? = nil) async throws -> [DomainRecord] {
        if let account, try await pool.query("SELECT 1 FROM accounts WHERE id = \(account)").isEmpty {
            throw AliasError(.accountNotFound, "there is no account \(account)")
        }
        let rows = try await pool.query("""
            SELECT name, kind::text AS kind, account_id, created_at FROM domains
            WHERE \(account)::bigint IS NULL OR kind = 'platform' OR account_id = \(account)
            ORDER BY domains.kind, name
            """)
        return try rows.map(Self.domainRecord)
    }

    static func parseDomain(_ text: String) throws(AliasError) -> DomainName {
        let name: DomainName
        do {
            name = try DomainName(text)
        } catch {
            throw AliasError(.invalidDomain, "\(error)")
        }
        guard name.labels.count >= 2 else { throw AliasError(.invalidDomain, "\(name) is a single label, not a mail domain") }
        return name
    }

    /// Refuses a name that exists, or that nests with (is under or above) a domain of someone else: a
    /// platform domain, or another account's custom domain. One account's own custom domains may nest.
    func checkNewDomain(_ name: DomainName, kind: String, account: Int64? = nil, on connection: PostgresConnection) async throws {
        // One domain registration at a time, so two nesting names cannot both pass the check below.
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext('palisade.domains'))")
        let overlapping = try await connection.query("""
            SELECT name, kind::text AS kind, account_id FROM domains
            WHERE name = \(name.ascii) OR right(\(name.ascii), length(name) + 1) = '.' || name OR right(name, length(\(name.ascii)) + 1) = '.' || \(name.ascii)
            """)
        for row in overlapping {
            let other: String = try row.decode("name")
            let otherKind: String = try row.decode("kind")
            if other == name.ascii { throw AliasError(.domainExists, "\(name) is already registered") }
            if kind == "platform" || otherKind == "platform" {
                throw AliasError(.domainNotAllowed, "\(name) overlaps the \(otherKind) domain \(other): platform and custom domains never nest")
            }
            if try row.decodeIfPresent("account_id", as: Int64.self) != account {
                throw AliasError(.domainNotAllowed, "\(name) overlaps \(other), another account's custom domain")
            }
        }
    }

    func insertDomain(_ name: DomainName, kind: String, account: Int64?, on connection: PostgresConnection) async throws -> DomainRecord {
        do {
            let row = try await connection.query("""
                INSERT INTO domains (name, kind, account_id) VALUES (\(name.ascii), \(kind)::domain_kind, \(account))
                RETURNING name, kind::text AS kind, account_id, created_at
                """).first!
            return try Self.domainRecord(row)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw AliasError(.domainExists, "\(name) was just registered by another request")
        }
    }

    static func domainRecord(_ row: PostgresRow) throws -> DomainRecord {
        DomainRecord(name: try row.decode("name"), kind: try row.decode("kind"), accountID: try row.decodeIfPresent("account_id"), createdAt: try row.decode("created_at"))
    }
}
