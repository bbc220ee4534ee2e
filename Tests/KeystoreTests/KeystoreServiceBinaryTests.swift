import CoreTestSupport
import Foundation
import Testing

/// The `palisade-keystore` executable itself: what an operator sees when the configuration is wrong.
@Suite("palisade-keystore executable")
struct KeystoreServiceBinaryTests {
    func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await ChildProcess.runBuilt("palisade-keystore", arguments)
    }

    @Test("A bad setting stops start-up with status 78 and names the key", arguments: [
        (["--keystore-http-port", "-1"], "keystore.http.port"),
        (["--keystore-api-tokens", "webmail:short"], "shorter than 32 characters"),
        (["--keystore-max-import-size", "10"], "keystore.maxImportSize"),
        (["--aliases-http-port", "8463"], "--aliases-http-port"),
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
        for key in ["keystore.apiTokens", "keystore.maxImportSize", "keystore.http.host", "keystore.http.port"] {
            #expect(result.output.contains(key))
        }
    }
}
