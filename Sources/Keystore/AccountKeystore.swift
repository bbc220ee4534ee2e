import Core
import Foundation
import Logging
import OpenPGP

/// The accounts' keystores: certificates imported (merged, never shrunk), listed, deleted, and bound to
/// an account's addresses for publication in WKD.
///
/// The HTTP API and platformctl go through this type. Every change runs in one transaction with its
/// audit row and its jobs (`wkd.refresh` for each address whose published key may have changed,
/// `vks.refresh` for each key whose status must be kept fresh); every refusal is a `KeystoreError`,
/// changes nothing, and is audited.
public struct AccountKeystore: Sendable {
    public let pool: PostgresPool
    public let maxImportSize: Int
    let logger: Logger
    /// The clock keys are validated at (expiry, revocation, signature times); tests set it.
    let now: @Sendable () -> Date

    public init(pool: PostgresPool, maxImportSize: Int = 1 << 20, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.maxImportSize = maxImportSize
        self.logger = logger
        self.now = now
    }

    public init(pool: PostgresPool, _ config: PalisadeConfiguration, logger: Logger) {
        self.init(pool: pool, maxImportSize: KeystoreSettings.maxImportSize.read(config), logger: logger)
    }

    /// Seconds since 1970 as OpenPGP counts them.
    var openPGPNow: UInt32 { UInt32(clamping: Int64(now().timeIntervalSince1970)) }

    var audited: AuditedChanges { AuditedChanges(pool: pool, logger: logger, metric: "palisade_keystore_operations_total") }

    /// One change in a transaction with its audit row; a `KeystoreError` rolls it back and is audited.
    func change<T: Sendable>(_ action: String, by actor: String, subject: String?, details: [String: String] = [:],
                             _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await audited.change(action, by: actor, subject: subject, details: details, body)
    }

    /// Audits a request refused before it reached the keystore (a malformed body or path from an
    /// authenticated caller).
    public func recordRefusal(_ action: String, by actor: String, subject: String?, code: String, message: String) async {
        await audited.record(KeystoreError(KeystoreError.Code(rawValue: code), message), action, by: actor, subject: subject)
    }

    /// Refuses before any transaction (bad input): audited like any refusal.
    func refuse(_ refusal: KeystoreError, _ action: String, by actor: String, subject: String?, details: [String: String] = [:]) async -> KeystoreError {
        await audited.record(refusal, action, by: actor, subject: subject, details: details)
        return refusal
    }

    /// Refuses an unknown or closed account (the keystore cannot lock accounts: it only reads them).
    func requireActiveAccount(_ account: Int64, on connection: PostgresConnection) async throws {
        guard let row = try await connection.query("SELECT state FROM accounts WHERE id = \(account)").first else {
            throw KeystoreError(.accountNotFound, "there is no account \(account)")
        }
        if try row.decode("state", as: String.self) != "active" {
            throw KeystoreError(.accountClosed, "account \(account) is closed")
        }
    }

    /// The stored certificate of `fingerprint`, parsed (it was written canonical by this type).
    static func stored(_ bytes: [UInt8]) throws -> Certificate {
        guard let certificate = try Certificate.parse(bytes).first else {
            throw KeystoreError(.invalidKey, "the stored certificate is empty")
        }
        return certificate
    }

    /// The addresses bound to `fingerprint`, for their `wkd.refresh` jobs.
    static func boundAddresses(of fingerprint: Fingerprint, on connection: PostgresConnection) async throws -> [String] {
        try await connection.query("""
            SELECT a.address FROM key_addresses k JOIN addresses a ON a.id = k.address_id WHERE k.fingerprint = \(fingerprint.hex)
            """).map { try $0.decode("address") }
    }

    static func enqueueRefresh(addresses: [String], on connection: PostgresConnection) async throws {
        try await JobQueue.enqueue(batch: addresses.map { try WKDRefreshJob.make(canonicalAddress: $0) }, on: connection)
    }
}
