import Foundation
import Core

/// The `dns.*` settings of every program that resolves names.
public enum DNSSettings {
    public static let trustAnchorFiles = ConfigSetting.stringList(
        "dns.trustAnchorFiles", default: ["/usr/share/dns/root.key"],
        "DNSSEC trust anchors (DS or DNSKEY records in zone-file form). Default: the root anchor from Debian's dns-root-data."
    )
    public static let forwarders = ConfigSetting.stringList(
        "dns.forwarders", default: [],
        "Resolvers to forward every query to, as address or address@port; answers are still validated here. Empty: full recursion from the root.",
        validate: { $0.first { IPAddress($0.split(separator: "@").first.map(String.init) ?? "") == nil }.map { "\"\($0)\" is not an IP address[@port]" } }
    )
    public static let stubZones = ConfigSetting.stringList(
        "dns.stubZones", default: [],
        "Zones answered by given servers instead of by recursion, as zone=address[@port] (repeat a zone for more servers). For internal zones, and the test world.",
        validate: { $0.first { (try? DNSStubZone(parsing: $0)) == nil }.map { "\"\($0)\" is not zone=address[@port]" } }
    )
    public static let timeout = ConfigSetting.duration(
        "dns.timeout", default: .seconds(10),
        "How long one look-up may take before it fails as timed out (a temporary failure, never an empty answer).",
        range: .milliseconds(100)...Duration.seconds(120)
    )
    public static let cacheSize = ConfigSetting.int(
        "dns.cacheMegabytes", default: 32, "Memory for unbound's message and RRset caches, in MiB (split evenly).", range: 1...4096
    )
    public static let answerCacheEntries = ConfigSetting.int(
        "dns.answerCacheEntries", default: 10_000, "Whole answers kept for their TTL in front of unbound; 0 turns this cache off.", range: 0...1_000_000
    )

    public static let all: [any AnyConfigSetting] = [trustAnchorFiles, forwarders, stubZones, timeout, cacheSize, answerCacheEntries]
}

/// A zone whose servers are configured rather than found by recursion: `zone=address[@port]`.
public struct DNSStubZone: Sendable, Equatable {
    public let zone: DNSName
    public let address: String

    public init(zone: DNSName, address: String) {
        self.zone = zone
        self.address = address
    }

    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, IPAddress(parts[1].split(separator: "@").first.map(String.init) ?? "") != nil else {
            throw DNSConfigurationError("dns.stubZones: \"\(text)\" is not zone=address[@port]")
        }
        zone = try DNSName(parts[0])
        address = parts[1]
    }
}

/// Everything a `DNSResolver` is built from; `init(_:)` reads the `dns.*` settings.
public struct DNSResolverConfiguration: Sendable {
    public var trustAnchorFiles: [String]
    public var forwarders: [String]
    public var stubZones: [DNSStubZone]
    public var timeout: Duration
    public var cacheMegabytes: Int
    public var answerCacheEntries: Int

    public init(trustAnchorFiles: [String] = ["/usr/share/dns/root.key"], forwarders: [String] = [], stubZones: [DNSStubZone] = [],
                timeout: Duration = .seconds(10), cacheMegabytes: Int = 32, answerCacheEntries: Int = 10_000) {
        self.trustAnchorFiles = trustAnchorFiles
        self.forwarders = forwarders
        self.stubZones = stubZones
        self.timeout = timeout
        self.cacheMegabytes = cacheMegabytes
        self.answerCacheEntries = answerCacheEntries
    }

    public init(_ config: PalisadeConfiguration) throws {
        self.init(
            trustAnchorFiles: DNSSettings.trustAnchorFiles.read(config),
            forwarders: DNSSettings.forwarders.read(config),
            stubZones: try DNSSettings.stubZones.read(config).map(DNSStubZone.init(parsing:)),
            timeout: DNSSettings.timeout.read(config),
            cacheMegabytes: DNSSettings.cacheSize.read(config),
            answerCacheEntries: DNSSettings.answerCacheEntries.read(config)
        )
    }
}
