import Core

/// The `keystore.*` settings the keystore library reads.
public enum KeystoreSettings {
    public static let maxImportSize = ConfigSetting.int(
        "keystore.maxImportSize", default: 1 << 20,
        "Largest key import accepted in bytes (armored or binary, a keyring counts whole); a single stored certificate is at most 1 MiB.",
        range: 1024...(16 << 20)
    )

    public static let all: [any AnyConfigSetting] = [maxImportSize]
}
