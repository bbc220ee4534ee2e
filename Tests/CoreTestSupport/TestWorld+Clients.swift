import DNS
import HTTPFetch
import Logging

extension TestWorld {
    /// A validating resolver that reaches the world's zones (its trust anchor, its stub zones).
    public func resolver(timeout: Duration = .seconds(5), logger: Logger) throws -> DNSResolver {
        try DNSResolver(
            configuration: DNSResolverConfiguration(trustAnchorFiles: [trustAnchorFile],
                                                    stubZones: try stubZones.map(DNSStubZone.init(parsing:)), timeout: timeout),
            logger: logger)
    }

    /// An HTTPS fetcher over `resolver` that trusts the world's CA.
    public func fetcher(resolver: DNSResolver, logger: Logger) throws -> HTTPFetcher {
        try HTTPFetcher(
            configuration: HTTPFetchConfiguration(caFile: certificateAuthorityFile, connectTimeout: .seconds(3), timeout: .seconds(10)),
            resolver: resolver, logger: logger)
    }

    /// The `dns` and `http` sections of a configuration file for the world, for the built executables.
    public var clientSettingsYAML: String {
        """
        dns:
          trustAnchorFiles: [\(trustAnchorFile)]
          stubZones: [\(stubZones.joined(separator: ", "))]
          timeout: 5s
        http:
          caFile: \(certificateAuthorityFile)
        """
    }
}
