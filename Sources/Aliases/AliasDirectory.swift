import Core
import Foundation
import Logging

/// Accounts, their addresses and custom domains, changed only under the platform's alias rules.
///
/// Both the `palisade-aliases` HTTP API and `platformctl` go through this type, so a rule holds whoever
/// asks. Every change runs in one transaction with its audit row and its `wkd.refresh` jobs; every
/// refusal is an `AliasError`, changes nothing, and is audited on its own. The database's triggers
/// (Schemas/0004) check the deletion rule again, so this type is the first line, not the only one.
public struct AliasDirectory: Sendable {
    public let pool: PostgresPool
    public let rules: AddressRules
    let logger: Logger
    /// The service's clock for the deletion rule; tests set it on either side of the cutoff. The database
    /// judges by its own clock.
    let now: @Sendable () -> Date

    public init(pool: PostgresPool, rules: AddressRules, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.rules = rules
        self.logger = logger
        self.now = now
    }

    /// Who asks, for the audit log and the logs (`api:webmail`, `platformctl:root`).
    public struct Actor: Sendable, CustomStringConvertible {
        public let name: String
        /// Set for an operator's explicit request to create a reserved role address (postmaster@…) on a
        /// platform domain.
        public let allowReserved: Bool
        public init(name: String, allowReserved: Bool = false) {
            self.name = name
            self.allowReserved = allowReserved
        }
        public var description: String { name }
    }

    var audited: AuditedChanges { AuditedChanges(pool: pool, logger: logger, metric: "palisade_alias_operations_total") }

    /// Runs one change in a transaction with its audit row; an `AliasError` (or a refusal raised by the
    /// database and translated) rolls it back and is audited separately.
    func change<T: Sendable>(
        _ action: String, by actor: Actor, subject: String?, details: [String: String] = [:],
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await audited.change(action, by: actor.name, subject: subject, details: details, body)
    }

    /// Audits a request refused before it reached the rules (a malformed body or path from an
    /// authenticated caller), so the audit log holds every refused attempt.
    public func recordRefusal(_ action: String, by actor: Actor, subject: String?, code: String, message: String) async {
        await audited.record(AliasError(AliasError.Code(rawValue: code), message), action, by: actor.name, subject: subject)
    }

    /// Refuses before the transaction starts (bad syntax): audited like any refusal.
    func refuse(_ refusal: AliasError, _ action: String, by actor: Actor, subject: String?, details: [String: String] = [:]) async -> AliasError {
        await audited.record(refusal, action, by: actor.name, subject: subject, details: details)
        return refusal
    }

    /// Locks the account's row for the rest of the transaction, so changes to one account happen one at a
    /// time (the alias limit cannot be overrun by concurrent requests); refuses a closed or unknown one.
    func lockActiveAccount(_ id: Int64, on connection: PostgresConnection) async throws {
        let rows = try await connection.query("SELECT state FROM accounts WHERE id = \(id) FOR UPDATE")
        guard let row = rows.first else { throw AliasError(.accountNotFound, "there is no account \(id)") }
        if try row.decode("state", as: String.self) != "active" {
            throw AliasError(.accountClosed, "account \(id) is closed: its addresses stay reserved and cannot change")
        }
    }

    /// The moment from which platform aliases can no longer be deleted, as the database holds it.
    func deletionCutoff(on connection: PostgresConnection) async throws -> Date {
        try await connection.query("SELECT alias_deletion_cutoff() AS cutoff").first!.decode("cutoff")
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    func enqueueRefresh(_ addresses: [String], on connection: PostgresConnection) async throws {
        try await JobQueue.enqueue(batch: addresses.map { try WKDRefreshJob.make(canonicalAddress: $0) }, on: connection)
    }
}
