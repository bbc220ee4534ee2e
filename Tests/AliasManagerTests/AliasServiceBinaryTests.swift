import CoreTestSupport
import Foundation
import Testing

/// The `palisade-aliases` executable itself: what an operator sees when the configuration is wrong.
@Suite("palisade-aliases executable")
struct AliasServiceBinaryTests {
    func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await ChildProcess.runBuilt("palisade-aliases", arguments)
    }

    @Test("A bad setting stops start-up with status 78 and names the key", arguments: [
        (["--aliases-http-port", "70000"], "aliases.http.port"),
        (["--aliases-api-tokens", "short:abc"], "shorter than 32 characters"),
        (["--aliases-max-per-account", "many"], "aliases.maxPerAccount"),
        (["--aliases-unknown", "1"], "--aliases-unknown"),
    ])
    func badConfiguration(arguments: [String], named: String) async throws {
        let result = try await run(arguments)
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains(named), "\(result.output)")
    }

    @Test("--help lists the service's own settings")
    func help() async throws {
        let result = try await run(["--help"])
        #expect(result.status == 0)
        for key in ["aliases.apiTokens", "aliases.maxPerAccount", "aliases.reservedLocalParts", "aliases.smtputf8", "aliases.http.port"] {
            #expect(result.output.contains(key))
        }
    }
}
