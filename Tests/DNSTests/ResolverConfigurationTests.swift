import Core
import CoreTestSupport
import DNS
import Foundation
import Logging
import Testing

/// A resolver that cannot work is refused at start-up with the setting named, never left to SERVFAIL
/// every query later.
@Suite("DNS resolver configuration")
struct ResolverConfigurationTests {
    let logger = Logger(label: "palisade.test.dns")

    func message(_ configuration: DNSResolverConfiguration) -> String? {
        do {
            _ = try DNSResolver(configuration: configuration, logger: logger)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("A missing trust anchor file is named")
    func missingAnchor() {
        let text = message(DNSResolverConfiguration(trustAnchorFiles: ["/nonexistent/anchor.key"]))
        #expect(text == "dns.trustAnchorFiles: cannot read /nonexistent/anchor.key")
    }

    @Test("A trust anchor file without a DS or DNSKEY record is refused")
    func emptyAnchor() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-anchor-\(UUID().uuidString)").path
        try "; nothing here\nexample. 300 IN A 127.0.0.1\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(message(DNSResolverConfiguration(trustAnchorFiles: [path])) == "dns.trustAnchorFiles: \(path) holds no DS or DNSKEY record")
    }

    @Test("A trust anchor unbound cannot parse stops the resolver at start-up")
    func malformedAnchor() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-anchor-\(UUID().uuidString)").path
        try "example. IN DS 1 13 2 nothex\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = message(DNSResolverConfiguration(trustAnchorFiles: [path]))
        #expect(text?.hasPrefix("unbound could not start with this configuration") == true)
    }

    @Test("Malformed stub zones and forwarders are named")
    func malformedServers() throws {
        #expect(throws: DNSConfigurationError.self) { try DNSStubZone(parsing: "example.org") }
        #expect(throws: DNSConfigurationError.self) { try DNSStubZone(parsing: "example.org=not-an-address") }
        #expect(try DNSStubZone(parsing: "example.org=127.0.0.1@5353") == DNSStubZone(zone: "example.org", address: "127.0.0.1@5353"))
        let anchor = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-anchor-\(UUID().uuidString)").path
        try "example. IN DS 1 13 2 3AC02D5556E19EFDC1B3DEAF690B75F778BBA65072AF60B25645B775CDC199B5\n".write(toFile: anchor, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: anchor) }
        let text = message(DNSResolverConfiguration(trustAnchorFiles: [anchor], forwarders: ["127.0.0.1@notaport"]))
        #expect(text?.hasPrefix("dns.forwarders: \"127.0.0.1@notaport\"") == true)
    }

    @Test("No trust anchor at all is refused: DNSSEC validation cannot be switched off")
    func noAnchor() {
        #expect(message(DNSResolverConfiguration(trustAnchorFiles: [])) == "dns.trustAnchorFiles is empty: Palisade always validates DNSSEC and needs at least one trust anchor")
    }

    @Test("The dns.* settings are read from a configuration file")
    func settings() async throws {
        let world = try TestWorld.current()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-dns-\(UUID().uuidString).yaml").path
        try """
        dns:
          trustAnchorFiles: [\(world.trustAnchorFile)]
          stubZones: [\(world.stubZones.joined(separator: ", "))]
          timeout: 2s
          answerCacheEntries: 0
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let schema = ConfigSchema(settings: CoreSettings.all + DNSSettings.all)
        let config = try await PalisadeConfiguration.load(explicitFilePath: path, environment: [:], schema: schema)
        let configuration = try DNSResolverConfiguration(config)
        try config.check()
        #expect(configuration.timeout == .seconds(2))
        #expect(configuration.answerCacheEntries == 0)
        #expect(configuration.stubZones.count == world.stubZones.count)
    }
}
