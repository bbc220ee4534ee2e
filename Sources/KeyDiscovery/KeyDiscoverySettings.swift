import Core
import Foundation

/// The `discovery.*` settings: where other people's keys are looked for and how long answers are kept.
/// Read by the keystore (look-ups), the VKS sync worker (its VKS client) and platformctl.
public enum KeyDiscoverySettings {
    public static let vksURL = ConfigSetting.string(
        "discovery.vks.url", default: "https://keys.openpgp.org",
        "Base URL of the validating key server (Hagrid's VKS API under /vks/v1/). HTTPS only.",
        validate: { text in
            guard let url = URL(string: text), url.scheme == "https", url.host() != nil, url.query == nil, url.fragment == nil,
                  url.user == nil, url.password == nil else {
                return "discovery.vks.url must be an https URL without credentials, query or fragment, not \"\(text)\""
            }
            return nil
        }
    )
    public static let wkdEnabled = ConfigSetting.bool(
        "discovery.wkd.enabled", default: true, "Ask the address's domain (Web Key Directory) before the VKS."
    )
    public static let wkdPort = ConfigSetting.int(
        "discovery.wkd.port", default: 443,
        "TCP port of WKD hosts. The draft says 443; another value is for test worlds only.", range: 1...65535
    )
    public static let allowPrivateAddresses = ConfigSetting.bool(
        "discovery.allowPrivateAddresses", default: false,
        "Let WKD look-ups connect to loopback, private and other non-public addresses. Off: a domain cannot point our look-ups into our own networks. On is for test worlds only."
    )
    public static let foundLifetime = ConfigSetting.duration(
        "discovery.foundLifetime", default: .seconds(86_400), "How long a found key is answered from the cache.",
        range: .seconds(0)...Duration.seconds(30 * 86_400)
    )
    public static let notFoundLifetime = ConfigSetting.duration(
        "discovery.notFoundLifetime", default: .seconds(3_600), "How long \"no key anywhere\" is answered from the cache.",
        range: .seconds(0)...Duration.seconds(7 * 86_400)
    )
    public static let failureLifetime = ConfigSetting.duration(
        "discovery.failureLifetime", default: .seconds(300),
        "How long a failed look-up (a source unreachable, 5xx, rate-limited) is answered from the cache; a longer Retry-After wins.",
        range: .seconds(0)...Duration.seconds(86_400)
    )
    public static let timeout = ConfigSetting.duration(
        "discovery.timeout", default: .seconds(10), "Longest one source (a WKD host, the VKS) may take to answer.",
        range: .milliseconds(100)...Duration.seconds(120)
    )
    public static let maxKeySize = ConfigSetting.int(
        "discovery.maxKeySize", default: 512 << 10, "Largest key a WKD host or the VKS may send, in bytes.",
        range: 1024...(4 << 20)
    )

    public static let all: [any AnyConfigSetting] = [vksURL, wkdEnabled, wkdPort, allowPrivateAddresses, foundLifetime, notFoundLifetime, failureLifetime, timeout, maxKeySize]
}

/// Everything a `KeyLookup`, `WKDClient` or `VKSClient` is built from; `init(_:)` reads `discovery.*`.
public struct KeyDiscoveryConfiguration: Sendable {
    public var vksURL: URL
    public var wkdEnabled: Bool
    public var wkdPort: Int
    public var allowPrivateAddresses: Bool
    public var foundLifetime: Duration
    public var notFoundLifetime: Duration
    public var failureLifetime: Duration
    public var timeout: Duration
    public var maxKeySize: Int

    public init(vksURL: URL = URL(string: "https://keys.openpgp.org")!, wkdEnabled: Bool = true, wkdPort: Int = 443,
                allowPrivateAddresses: Bool = false, foundLifetime: Duration = .seconds(86_400), notFoundLifetime: Duration = .seconds(3_600),
                failureLifetime: Duration = .seconds(300), timeout: Duration = .seconds(10), maxKeySize: Int = 512 << 10) {
        self.vksURL = vksURL
        self.wkdEnabled = wkdEnabled
        self.wkdPort = wkdPort
        self.allowPrivateAddresses = allowPrivateAddresses
        self.foundLifetime = foundLifetime
        self.notFoundLifetime = notFoundLifetime
        self.failureLifetime = failureLifetime
        self.timeout = timeout
        self.maxKeySize = maxKeySize
    }

    public init(_ config: PalisadeConfiguration) {
        self.init(
            vksURL: URL(string: KeyDiscoverySettings.vksURL.read(config))!,
            wkdEnabled: KeyDiscoverySettings.wkdEnabled.read(config),
            wkdPort: KeyDiscoverySettings.wkdPort.read(config),
            allowPrivateAddresses: KeyDiscoverySettings.allowPrivateAddresses.read(config),
            foundLifetime: KeyDiscoverySettings.foundLifetime.read(config),
            notFoundLifetime: KeyDiscoverySettings.notFoundLifetime.read(config),
            failureLifetime: KeyDiscoverySettings.failureLifetime.read(config),
            timeout: KeyDiscoverySettings.timeout.read(config),
            maxKeySize: KeyDiscoverySettings.maxKeySize.read(config)
        )
    }
}
