import Core

/// The `keystore.*` settings the keystore library reads.
public enum KeystoreSettings {
    public static let maxImportSize = ConfigSetting.int(
        "keystore.maxImportSize", default: 1 << 20,
        "Largest key import accepted in bytes (armored or binary, a keyring counts whole); a single stored certificate is at most 1 MiB.",
        range: 1024...(16 << 20)
    )

    public static let listenHost = ConfigSetting.string(
        "keystore.http.host", default: "127.0.0.1", "Address the HTTP API listens on (loopback unless the callers are elsewhere)."
    )
    public static let listenPort = ConfigSetting.int(
        "keystore.http.port", default: 8462, "TCP port of the HTTP API (0: any free port, logged at start).", range: 0...65535
    )
    public static let apiTokens = ConfigSetting.bearerTokens(
        "keystore.apiTokens",
        "Bearer tokens allowed to call the API, each written name:token (the name goes to the audit log; the token is at least 32 characters). Empty: every API request is refused."
    )

    public static let signerTimeout = ConfigSetting.duration(
        "keystore.signerTimeout", default: .seconds(3),
        "How long a signer check (GET /v1/signers/…) waits for the VKS before answering from the last known status, marked as such.",
        range: .milliseconds(100)...Duration.seconds(60)
    )

    public static let all: [any AnyConfigSetting] = [maxImportSize, listenHost, listenPort, apiTokens, signerTimeout]
}
