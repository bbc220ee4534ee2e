import Core

/// The `http.*` settings of every program that fetches over HTTPS.
public enum HTTPFetchSettings {
    public static let caFile = ConfigSetting.string(
        "http.caFile", default: "",
        "PEM file of the CAs trusted for HTTPS. Empty: the system store (Debian's ca-certificates)."
    )
    public static let connectTimeout = ConfigSetting.duration(
        "http.connectTimeout", default: .seconds(10), "Longest a TCP and TLS connection set-up may take.",
        range: .milliseconds(100)...Duration.seconds(120)
    )
    public static let timeout = ConfigSetting.duration(
        "http.timeout", default: .seconds(30), "Longest a whole request may take, connection and body included.",
        range: .milliseconds(100)...Duration.seconds(600)
    )
    public static let maxBodySize = ConfigSetting.int(
        "http.maxBodySize", default: 1 << 20, "Largest response body accepted, in bytes; a larger one is an error. Callers may set less.",
        range: 1...(256 << 20)
    )
    public static let maxConnections = ConfigSetting.int(
        "http.maxConnections", default: 64, "Most connections open at once across all hosts (HTTP/2 multiplexes requests over them).",
        range: 1...10_000
    )

    public static let all: [any AnyConfigSetting] = [caFile, connectTimeout, timeout, maxBodySize, maxConnections]
}

/// Everything an `HTTPFetcher` is built from; `init(_:)` reads the `http.*` settings.
public struct HTTPFetchConfiguration: Sendable {
    public var caFile: String?
    public var connectTimeout: Duration
    public var timeout: Duration
    public var maxBodySize: Int
    public var maxConnections: Int
    public var userAgent: String

    public init(caFile: String? = nil, connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(30),
                maxBodySize: Int = 1 << 20, maxConnections: Int = 64, userAgent: String = "Palisade/\(PalisadeVersion.current)") {
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxBodySize = maxBodySize
        self.maxConnections = maxConnections
        self.userAgent = userAgent
    }

    public init(_ config: PalisadeConfiguration) {
        let caFile = HTTPFetchSettings.caFile.read(config)
        self.init(
            caFile: caFile.isEmpty ? nil : caFile,
            connectTimeout: HTTPFetchSettings.connectTimeout.read(config),
            timeout: HTTPFetchSettings.timeout.read(config),
            maxBodySize: HTTPFetchSettings.maxBodySize.read(config),
            maxConnections: HTTPFetchSettings.maxConnections.read(config)
        )
    }
}
