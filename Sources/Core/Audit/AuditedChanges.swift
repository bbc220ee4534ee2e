import Logging
import Metrics

/// A refusal a service's rules raise: a machine-readable code and a message for people. Thrown inside an
/// `AuditedChanges` change, it rolls the change back and is audited on its own.
public protocol AuditableRefusal: Error, Sendable {
    var auditCode: String { get }
    var auditMessage: String { get }
}

/// How a service changes state: each change in one transaction with its `audit_log` row, counted and
/// logged; each refusal audited with its code, counted under that code and logged, nothing else changed.
/// The alias manager and the keystore both run their changes through it.
public struct AuditedChanges: Sendable {
    public let pool: PostgresPool
    let logger: Logger
    /// The counter, with `operation` and `outcome` dimensions (e.g. `palisade_alias_operations_total`).
    let metric: String

    public init(pool: PostgresPool, logger: Logger, metric: String) {
        self.pool = pool
        self.logger = logger
        self.metric = metric
    }

    /// Runs `body` in a transaction that also writes the audit row.
    public func change<T: Sendable>(
        _ action: String, by actor: String, subject: String?, details: [String: String] = [:],
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            let value = try await pool.transaction { connection in
                let value = try await body(connection)
                try await AuditLog.record(.init(actor: actor, action: action, subject: subject, outcome: "ok", details: details), on: connection)
                return value
            }
            Counter(label: metric, dimensions: [("operation", action), ("outcome", "ok")]).increment()
            logger.info("\(action)", metadata: ["actor": "\(actor)", "subject": "\(AuditLog.printable(subject ?? "-"))"])
            return value
        } catch let refusal as any AuditableRefusal {
            await record(refusal, action, by: actor, subject: subject, details: details)
            throw refusal
        }
    }

    /// Audits a refusal that happened outside `change` (bad input checked before any transaction).
    public func record(_ refusal: any AuditableRefusal, _ action: String, by actor: String, subject: String?, details: [String: String] = [:]) async {
        Counter(label: metric, dimensions: [("operation", action), ("outcome", refusal.auditCode)]).increment()
        logger.info("\(action) refused", metadata: ["actor": "\(actor)", "subject": "\(AuditLog.printable(subject ?? "-"))", "code": "\(refusal.auditCode)"])
        var details = details
        details["message"] = refusal.auditMessage
        do {
            try await AuditLog.record(.init(actor: actor, action: action, subject: subject, outcome: "refused", code: refusal.auditCode, details: details), pool: pool)
        } catch {
            logger.error("could not write the audit row of a refusal", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }
}
