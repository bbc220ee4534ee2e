import Core
import Foundation

extension AliasDirectory {
    /// Every address of an account, primary first.
    public func addresses(of account: Int64) async throws -> [AddressRecord] {
        try await pool.transaction { connection in
            guard try await !connection.query("SELECT 1 FROM accounts WHERE id = \(account)").isEmpty else {
                throw AliasError(.accountNotFound, "there is no account \(account)")
            }
            let cutoff = try await deletionCutoff(on: connection)
            let rows = try await connection.query("""
                SELECT a.address, a.kind::text AS kind, d.name AS domain, d.kind::text AS domain_kind, a.enabled, a.created_at, a.disabled_at,
                       c.state = 'active' AS account_active
                FROM addresses a JOIN domains d ON d.id = a.domain_id JOIN accounts c ON c.id = a.account_id
                WHERE a.account_id = \(account)
                ORDER BY a.kind, a.address
                """)
            return try rows.map { try record($0, cutoff: cutoff) }
        }
    }

    func record(_ row: PostgresRow, cutoff: Date) throws -> AddressRecord {
        let kind: String = try row.decode("kind")
        let domainKind: String = try row.decode("domain_kind")
        let accountActive: Bool = try row.decode("account_active")
        return AddressRecord(
            address: try row.decode("address"), kind: kind, domain: try row.decode("domain"), domainKind: domainKind,
            enabled: try row.decode("enabled"),
            deletable: kind == "alias" && accountActive && (domainKind == "custom" || now() < cutoff),
            createdAt: try row.decode("created_at"), disabledAt: try row.decodeIfPresent("disabled_at")
        )
    }

    /// The account's own row for `address`, locked for the transaction, with the deletion cutoff.
    func ownAddress(_ address: EmailAddress, of account: Int64, on connection: PostgresConnection) async throws -> (id: Int64, record: AddressRecord, cutoff: Date) {
        let rows = try await connection.query("""
            SELECT a.id, a.address, a.kind::text AS kind, d.name AS domain, d.kind::text AS domain_kind, a.enabled, a.created_at, a.disabled_at,
                   c.state = 'active' AS account_active, alias_deletion_cutoff() AS cutoff
            FROM addresses a JOIN domains d ON d.id = a.domain_id JOIN accounts c ON c.id = a.account_id
            WHERE a.address = \(address.canonical) AND a.account_id = \(account)
            FOR UPDATE OF a
            """)
        guard let row = rows.first else { throw AliasError(.addressNotFound, "account \(account) has no address \(address)") }
        let cutoff: Date = try row.decode("cutoff")
        return (try row.decode("id"), try record(row, cutoff: cutoff), cutoff)
    }

    /// Gives `account` a new alias. The address must be on a platform domain or on one of the account's
    /// own custom domains, never assigned to another account before, not a reserved role name on a
    /// platform domain (unless an operator asks), and within the account's alias limit.
    public func createAlias(_ text: String, for account: Int64, by actor: Actor) async throws -> AddressRecord {
        let action = "alias.create"
        let details = ["account": String(account)]
        let address: EmailAddress
        do {
            address = try rules.parse(text)
        } catch {
            throw await refuse(error, action, by: actor, subject: String(text.prefix(300)), details: details)
        }
        return try await change(action, by: actor, subject: address.canonical, details: details) { connection in
            // Each statement is a round trip, so the checks are folded into as few as keep them exact:
            // lock the account and read the domain; then count, reservation and ownership in one snapshot.
            let target = try await lockAccount(account, domain: address.domain, on: connection)
            let domain = try usableDomain(target, of: address, for: account, by: actor)
            let createdAt = try await insertAddress(address, domain: domain, account: account, kind: "alias", aliasLimit: rules.maxAliasesPerAccount, on: connection)
            try await enqueueRefresh([address.canonical], on: connection)
            return AddressRecord(address: address.canonical, kind: "alias", domain: address.domain.ascii, domainKind: target.domainKind ?? "",
                                 enabled: true, deletable: target.domainKind == "custom" || now() < target.cutoff, createdAt: createdAt, disabledAt: nil)
        }
    }

    /// What `createAlias` needs from the database before it checks the address.
    struct LockedAccount {
        let domainID: Int64?
        let domainKind: String?
        let domainOwner: Int64?
        let cutoff: Date
    }

    /// Locks the account's row (refusing a closed or unknown account) and reads `domain` in the same
    /// statement.
    func lockAccount(_ account: Int64, domain: DomainName, on connection: PostgresConnection) async throws -> LockedAccount {
        let rows = try await connection.query("""
            SELECT c.state, d.id AS domain_id, d.kind::text AS domain_kind, d.account_id AS domain_owner, alias_deletion_cutoff() AS cutoff
            FROM accounts c LEFT JOIN domains d ON d.name = \(domain.ascii)
            WHERE c.id = \(account)
            FOR UPDATE OF c
            """)
        guard let row = rows.first else { throw AliasError(.accountNotFound, "there is no account \(account)") }
        if try row.decode("state", as: String.self) != "active" {
            throw AliasError(.accountClosed, "account \(account) is closed: its addresses stay reserved and cannot change")
        }
        return LockedAccount(domainID: try row.decodeIfPresent("domain_id"), domainKind: try row.decodeIfPresent("domain_kind"),
                             domainOwner: try row.decodeIfPresent("domain_owner"), cutoff: try row.decode("cutoff"))
    }

    /// Checks that `address`'s domain may carry an address of `account`, and returns its id.
    func usableDomain(_ target: LockedAccount, of address: EmailAddress, for account: Int64, by actor: Actor) throws -> Int64 {
        guard let id = target.domainID, let kind = target.domainKind else {
            throw AliasError(.domainNotAllowed, "\(address.domain) is not a domain served here")
        }
        if kind == "custom", target.domainOwner != account {
            throw AliasError(.domainNotAllowed, "\(address.domain) is another account's custom domain")
        }
        if kind == "platform", !actor.allowReserved, rules.isReserved(address) {
            throw AliasError(.reservedAddress, "\(address.localPart) is a reserved role name on platform domains (aliases.reservedLocalParts)")
        }
        return id
    }

    /// Checks and inserts the row (returning its creation time): the alias limit (when given), the
    /// reservation of every address ever assigned, the `+` family, and the current holder, read in one
    /// snapshot; the database's uniqueness and reservation triggers decide races between accounts.
    func insertAddress(_ address: EmailAddress, domain: Int64, account: Int64, kind: String, aliasLimit: Int?,
                       on connection: PostgresConnection) async throws -> Date {
        // With Postfix's recipient_delimiter = +, alice+x@ is delivered to alice@ when it has no entry of
        // its own: an address and its +sub-addresses must all belong to one account.
        let checks = try await connection.query("""
            SELECT (SELECT count(*) FROM addresses WHERE account_id = \(account) AND kind = 'alias') AS aliases,
                   (SELECT account_id FROM reserved_addresses WHERE address = \(address.canonical)) AS holder,
                   EXISTS (SELECT 1 FROM reserved_addresses
                           WHERE regexp_replace(address, '\\+[^@]*@', '@') = regexp_replace(\(address.canonical), '\\+[^@]*@', '@')
                             AND account_id <> \(account)) AS family_taken,
                   (SELECT account_id FROM addresses WHERE address = \(address.canonical)) AS current_owner
            """).first!
        let aliases: Int = try checks.decode("aliases")
        if let aliasLimit, aliases >= aliasLimit {
            throw AliasError(.aliasLimitReached, "account \(account) already holds \(aliases) aliases, the most allowed (aliases.maxPerAccount)")
        }
        if let holder = try checks.decodeIfPresent("holder", as: Int64.self), holder != account {
            throw AliasError(.addressTaken, "\(address) was assigned before and stays reserved to its account")
        }
        if try checks.decode("family_taken", as: Bool.self) {
            throw AliasError(.addressTaken, "\(address) shares its base address with +sub-addresses of another account (the + delimiter)")
        }
        if let owner = try checks.decodeIfPresent("current_owner", as: Int64.self) {
            if owner == account { throw AliasError(.addressExists, "account \(account) already has \(address)") }
            throw AliasError(.addressTaken, "\(address) belongs to another account")
        }
        do {
            return try await connection.query("""
                INSERT INTO addresses (address, local_part, domain_id, account_id, kind)
                VALUES (\(address.canonical), \(address.localPart), \(domain), \(account), \(kind)::address_kind)
                RETURNING created_at
                """).first!.decode("created_at")
        } catch let error as PostgresError where error.isUniqueViolation || error.sqlState == "PA002" {
            // Another request took it between the checks and the insert.
            throw AliasError(.addressTaken, "\(address) was just assigned to another request")
        }
    }

    /// Disables or enables one of the account's aliases. A disabled alias receives nothing and cannot be
    /// used as a sender, and stays the account's. A primary address is not disabled (close the account).
    public func setEnabled(_ enabled: Bool, _ text: String, of account: Int64, by actor: Actor) async throws -> AddressRecord {
        let action = enabled ? "alias.enable" : "alias.disable"
        let details = ["account": String(account)]
        let address: EmailAddress
        do {
            address = try EmailAddress(text)
        } catch {
            throw await refuse(AliasError(.invalidAddress, "\(error)"), action, by: actor, subject: String(text.prefix(300)), details: details)
        }
        return try await change(action, by: actor, subject: address.canonical, details: details) { connection in
            try await lockActiveAccount(account, on: connection)
            var (id, current, _) = try await ownAddress(address, of: account, on: connection)
            if current.kind == "primary" {
                throw AliasError(.primaryAddressProtected, "\(address) is account \(account)'s primary address: it is never disabled (close the account instead)")
            }
            guard current.enabled != enabled else { return current }
            current.enabled = enabled
            current.disabledAt = try await connection.query("""
                UPDATE addresses SET enabled = \(enabled), disabled_at = CASE WHEN \(enabled) THEN NULL ELSE now() END WHERE id = \(id)
                RETURNING disabled_at
                """).first!.decodeIfPresent("disabled_at")
            try await enqueueRefresh([address.canonical], on: connection)
            return current
        }
    }

    /// Deletes one of the account's aliases where the rules allow it: a custom-domain alias at any time,
    /// a platform-domain alias only before the cutoff, a primary address never. The address stays
    /// reserved to the account either way.
    public func deleteAlias(_ text: String, of account: Int64, by actor: Actor) async throws {
        let action = "alias.delete"
        let details = ["account": String(account)]
        let address: EmailAddress
        do {
            address = try EmailAddress(text)
        } catch {
            throw await refuse(AliasError(.invalidAddress, "\(error)"), action, by: actor, subject: String(text.prefix(300)), details: details)
        }
        try await change(action, by: actor, subject: address.canonical, details: details) { connection in
            try await lockActiveAccount(account, on: connection)
            let (id, current, cutoff) = try await ownAddress(address, of: account, on: connection)
            if current.kind == "primary" {
                throw AliasError(.primaryAddressProtected, "\(address) is account \(account)'s primary address, which can never be deleted")
            }
            if current.domainKind == "platform", now() >= cutoff {
                throw Self.deletionForbidden(address, cutoff: Self.format(cutoff))
            }
            do {
                try await connection.query("DELETE FROM addresses WHERE id = \(id)")
            } catch let error as PostgresError where error.sqlState == "PA001" {
                // The database's clock or cutoff disagreed with ours: its rule wins.
                throw Self.deletionForbidden(address, cutoff: Self.format(cutoff))
            }
            try await enqueueRefresh([address.canonical], on: connection)
        }
    }

    static func deletionForbidden(_ address: EmailAddress, cutoff: String) -> AliasError {
        AliasError(.aliasDeletionForbidden, "\(address) is an alias on the platform domain \(address.domain), and platform-domain aliases cannot be deleted since \(cutoff), so that no one else can ever take the address over; disable it instead")
    }
}
