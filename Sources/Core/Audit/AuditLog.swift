import Foundation

/// Who did what, when, and how it ended: one append-only `audit_log` row per change and per refused
/// attempt, for operators and investigations.
///
/// A change records its row in the change's own transaction (`record(_:on:)`), so the log never claims
/// a change that rolled back. A refusal has no transaction left to join (it rolled back), so it is
/// recorded on its own (`record(_:pool:)`).
public enum AuditLog {
    /// One row. `actor` names the caller (`api:webmail`, `platformctl:alice`); `action` is dotted
    /// (`alias.delete`); `subject` is what it acted on (an address, a domain, `account:42`).
    public struct Entry: Sendable {
        public var actor: String
        public var action: String
        public var subject: String?
        /// `ok` or `refused`.
        public var outcome: String
        /// For a refusal, the machine-readable reason (`alias_deletion_forbidden`).
        public var code: String?
        public var details: [String: String]

        public init(actor: String, action: String, subject: String?, outcome: String, code: String? = nil, details: [String: String] = [:]) {
            self.actor = actor
            self.action = action
            self.subject = subject
            self.outcome = outcome
            self.code = code
            self.details = details
        }

        var detailsJSON: PostgresJSON {
            get throws {
                var all = details.mapValues(AuditLog.printable)
                all["outcome"] = outcome
                if let code { all["code"] = AuditLog.printable(code) }
                return try PostgresJSON(all)
            }
        }
    }

    public static func record(_ entry: Entry, on connection: PostgresConnection) async throws {
        try await connection.query(insert(entry))
    }

    public static func record(_ entry: Entry, pool: PostgresPool) async throws {
        try await pool.query(insert(entry))
    }

    static func insert(_ entry: Entry) throws -> PostgresQuery {
        // The columns' CHECK limits; a caller-supplied subject is cut rather than losing the row.
        let subject = entry.subject.map { printable(String($0.prefix(1000))) }
        return """
            INSERT INTO audit_log (actor, action, subject, details)
            VALUES (\(printable(String(entry.actor.prefix(200)))), \(printable(String(entry.action.prefix(200)))), \(subject), \(try entry.detailsJSON)::jsonb)
            """
    }

    /// Refused input is recorded as sent, except NUL, which neither text columns nor jsonb can hold.
    public static func printable(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }
}
