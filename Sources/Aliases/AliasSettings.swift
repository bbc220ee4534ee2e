import Core

/// The `aliases.*` settings: the address rules (read by the service and by platformctl alike) and the
/// service's HTTP listener.
public enum AliasSettings {
    /// RFC 2142's mailbox names, the addresses CAs accept for domain validation (CA/Browser Forum
    /// Baseline Requirements 3.2.2.4.4: admin, administrator, webmaster, hostmaster, postmaster), and
    /// the system names mail software treats specially. Whoever holds one of these on a platform domain
    /// could obtain a TLS certificate for it or read its abuse and security reports.
    public static let defaultReservedLocalParts = [
        "abuse", "admin", "administrator", "ftp", "hostmaster", "info", "mailer-daemon", "marketing", "news", "noc",
        "nobody", "no-reply", "noreply", "postmaster", "root", "sales", "security", "ssladmin", "support", "usenet",
        "uucp", "webmaster", "www",
    ]

    public static let reservedLocalParts = ConfigSetting.stringList(
        "aliases.reservedLocalParts", default: defaultReservedLocalParts,
        "Local parts nobody may take on a platform domain (compared case-insensitively; the part before a + counts too). Operators create them with platformctl --allow-reserved. Custom domains are their owners' to run.",
        validate: { list in list.first { $0.isEmpty || $0.contains("@") }.map { "reserved local part \"\($0)\" must be a bare local part" } }
    )
    public static let maxAliasesPerAccount = ConfigSetting.int(
        "aliases.maxPerAccount", default: 50, "Most aliases (platform and custom, enabled or not) one account may hold.", range: 0...100_000
    )
    public static let allowUTF8LocalParts = ConfigSetting.bool(
        "aliases.smtputf8", default: false,
        "Accept non-ASCII local parts (RFC 6531). Leave off unless every MTA that delivers to and from these addresses speaks SMTPUTF8."
    )
    public static let listenHost = ConfigSetting.string(
        "aliases.http.host", default: "127.0.0.1", "Address the HTTP API listens on (loopback unless the callers are elsewhere)."
    )
    public static let listenPort = ConfigSetting.int(
        "aliases.http.port", default: 8463, "TCP port of the HTTP API (0: any free port, logged at start).", range: 0...65535
    )
    public static let apiTokens = ConfigSetting.bearerTokens(
        "aliases.apiTokens",
        "Bearer tokens allowed to call the API, each written name:token (the name goes to the audit log; the token is at least 32 characters). Empty: every API request is refused."
    )

    public static let all: [any AnyConfigSetting] = [reservedLocalParts, maxAliasesPerAccount, allowUTF8LocalParts, listenHost, listenPort, apiTokens]
}
