import Core
import Foundation
import Logging
import OpenPGP

/// Decides what the WKD serves for an address and keeps `wkd_entries` in step: the handler of
/// `wkd.refresh {address}` jobs and of the periodic reconciliation.
///
/// An address is published only when all of these hold: its domain is one we serve (a platform domain,
/// or a custom domain with WKD as a service), it is an enabled address (primary or alias) of an open
/// account, and the account bound it to a certificate that has a User ID for exactly that address (the
/// keystore's binding). What is served is that certificate minimised to the address's User ID(s):
/// primary key, those User IDs with their self-signatures and revocations, subkeys; never another User ID
/// or a User Attribute. A revoked or expired key is served as it is, so that clients learn of it; a
/// certificate nothing holds up any more (no valid self-signature) is not served.
public struct WKDPublication: Sendable {
    let pool: PostgresPool
    let logger: Logger
    /// The clock certificates are validated at; tests set it.
    let now: @Sendable () -> Date

    public init(pool: PostgresPool, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.logger = logger
        self.now = now
    }

    /// The entry `canonicalAddress` should have now, nil when nothing is to be published. The User ID
    /// served is exactly the one the account bound (`key_addresses.user_id`): certificates are shared and
    /// merged from every account's copy, and another User ID with the same address that someone else's
    /// copy carried is not the owner's consent. It is served with its revocation if it has one.
    public func entry(for canonicalAddress: String, on connection: PostgresConnection) async throws -> WKDEntry? {
        let rows = try await connection.query("""
            SELECT a.local_part, d.name AS domain, k.fingerprint, k.certificate, b.user_id
            FROM addresses a
            JOIN accounts c ON c.id = a.account_id AND c.state = 'active'
            JOIN domains d ON d.id = a.domain_id
            JOIN key_addresses b ON b.address_id = a.id
            JOIN keys k ON k.fingerprint = b.fingerprint
            WHERE a.address = \(canonicalAddress) AND a.enabled
              AND (d.kind = 'platform' OR EXISTS (SELECT 1 FROM wkd_service_domains s WHERE s.domain_id = d.id))
            """)
        guard let row = rows.first else { return nil }
        let address = try EmailAddress("\(try row.decode("local_part", as: String.self))@\(try row.decode("domain", as: String.self))")
        guard let certificate = try Certificate.parse(try row.decode("certificate")).first else { return nil }
        let time = UInt32(clamping: Int64(now().timeIntervalSince1970))
        let valid = certificate.validated(at: time)
        if case .invalid = valid.status(at: time) { return nil }
        let bound: String = try row.decode("user_id")
        guard let userID = valid.userIDs.first(where: { $0.text == bound && $0.email == address }) else { return nil }
        return WKDEntry(address: address, fingerprint: certificate.fingerprint, body: valid.packets(userIDs: [userID]).flatMap(\.serialized))
    }

    /// Recomputes one address's entry and stores it (or removes it); whether anything changed. Refreshes of
    /// one address are serialised (an advisory lock for the transaction), so a reconciliation that read a
    /// binding just before it was withdrawn cannot write its entry after the withdrawal's own refresh.
    @discardableResult
    public func refresh(_ canonicalAddress: String) async throws -> Bool {
        try await pool.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(canonicalAddress), 20260701))")
            let entry = try await entry(for: canonicalAddress, on: connection)
            return try await store(entry, for: canonicalAddress, on: connection)
        }
    }

    /// Writes `entry` for the address, or deletes the address's entry when it is nil. Unchanged rows are
    /// left alone, so no NOTIFY goes out for them.
    func store(_ entry: WKDEntry?, for canonicalAddress: String, on connection: PostgresConnection) async throws -> Bool {
        guard let entry else {
            return try await !connection.query("DELETE FROM wkd_entries WHERE address = \(canonicalAddress) RETURNING 1 AS gone").isEmpty
        }
        return try await !connection.query("""
            INSERT INTO wkd_entries (address, domain, hash, unicode_hash, fingerprint, body, etag)
            VALUES (\(entry.address), \(entry.domain), \(entry.hash), \(entry.unicodeHash), \(entry.fingerprint), \(entry.body), \(entry.etag))
            ON CONFLICT (address) DO UPDATE SET
                domain = EXCLUDED.domain, hash = EXCLUDED.hash, unicode_hash = EXCLUDED.unicode_hash,
                fingerprint = EXCLUDED.fingerprint, body = EXCLUDED.body, etag = EXCLUDED.etag, updated_at = now()
            WHERE (wkd_entries.domain, wkd_entries.hash, wkd_entries.unicode_hash, wkd_entries.etag)
                  IS DISTINCT FROM (EXCLUDED.domain, EXCLUDED.hash, EXCLUDED.unicode_hash, EXCLUDED.etag)
            RETURNING 1 AS changed
            """).isEmpty
    }

    /// Recomputes every address that has an entry or a binding: repairs whatever a lost job or a change
    /// outside the services left behind (a domain's WKD service turned on or off, a key that expired).
    /// Returns how many entries changed.
    public func reconcile() async throws -> Int {
        let addresses: [String] = try await pool.query("""
            SELECT address FROM wkd_entries
            UNION
            SELECT a.address FROM key_addresses b JOIN addresses a ON a.id = b.address_id
            """).map { try $0.decode("address") }
        var changed = 0
        var failed = 0
        for address in addresses {
            do {
                if try await refresh(address) { changed += 1 }
            } catch let error as PostgresError where error.isConnectionProblem {
                throw error
            } catch {
                // One address that cannot be computed must not stop the repair of the others.
                failed += 1
                logger.error("WKD reconciliation of an address failed", metadata: ["address": "\(address)", "error": "\(error)"])
            }
        }
        if failed > 0 { throw JobFailure("\(failed) of \(addresses.count) addresses could not be reconciled; see the log") }
        if changed > 0 { logger.notice("WKD reconciliation changed entries", metadata: ["changed": "\(changed)", "addresses": "\(addresses.count)"]) }
        return changed
    }
}
