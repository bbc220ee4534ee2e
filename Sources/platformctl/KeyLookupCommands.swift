import Aliases
import ArgumentParser
import Core
import DNS
import Foundation
import HTTPFetch
import KeyDiscovery
import Keystore

extension KeyCommands {
    /// `platformctl keys lookup`: the keystore's look-up, for operators (same order, same cache).
    struct Lookup: AsyncParsableCommand {
        static let notFoundStatus: Int32 = 7
        static let failedStatus: Int32 = 8

        static let configuration = CommandConfiguration(
            abstract: "Find the key for an address: our own tables for our domains, else WKD then the VKS (cached).",
            discussion: "Exits 0 when a key was found, 7 when every source said there is none, 8 when a source failed and none was found (other failures keep platformctl's codes: 3 configuration, 4 database, 5 refused)."
        )
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Ask the sources even if the cache has a fresh answer.") var refresh = false
        @Flag(help: "Only forget the cached answer for the address.") var forget = false
        @Argument(help: "The e-mail address.") var email: String

        func run() async throws {
            var outcome = LookupAnswer.Outcome.found
            try await CommandContext.run(global) { context in
                let lookup = try context.keyLookup()
                if forget {
                    let forgotten = try await lookup.forget(email)
                    if global.json { return try Output.json(["forgotten": forgotten]) }
                    print(forgotten ? "forgot the cached answer for \(email)" : "nothing was cached for \(email)")
                    return
                }
                let answer = try await lookup.lookup(email, refresh: refresh)
                outcome = answer.outcome
                if global.json { return try Output.json(answer) }
                print("\(answer.email): \(answer.outcome.rawValue)" + (answer.source.map { " (from \($0.rawValue))" } ?? "")
                      + (answer.cached ? ", cached" : "") + ", looked up \(Output.date(answer.lookedUpAt))"
                      + (answer.expiresAt.map { ", kept until \(Output.date($0))" } ?? ""))
                for key in answer.keys { print("  key \(key.fingerprint.hex)" + (key.expiresAt.map { ", expires \(Output.date($0))" } ?? "")) }
                Output.table(["SOURCE", "METHOD", "RESULT", "DETAIL"], answer.attempts.map {
                    [$0.source.rawValue, $0.method ?? "-", $0.result.rawValue, ($0.detail ?? "-") + ($0.retryAfter.map { " (retry after \(Output.date($0)))" } ?? "")]
                })
            }
            switch outcome {
            case .found: return
            case .notFound: throw ExitCode(Self.notFoundStatus)
            case .failed: throw ExitCode(Self.failedStatus)
            }
        }
    }

    /// `platformctl keys import-discovered`: imports a key a look-up found, with its source.
    struct ImportDiscovered: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-discovered", abstract: "Import a key that a look-up of an address found into an account's keystore.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The address that was looked up.") var email: String
        @Argument(help: "The fingerprint of the found key.") var fingerprint: String

        func run() async throws {
            var failed = false
            try await CommandContext.run(global) { context in
                let found: KeyLookup.Discovered
                do {
                    found = try await context.keyLookup().discovered(fingerprint, for: email)
                } catch KeyLookupError.lookupFailed(let message, _) {
                    FileHandle.standardError.write(Data("platformctl: lookup_failed: \(message)\n".utf8))
                    failed = true
                    return
                }
                let source = KeySource(rawValue: found.source.rawValue)!
                let results = try await context.keystore.importCertificates(found.key.certificate, for: owner.account, source: source, by: CommandContext.actor().name)
                if global.json { return try Output.json(results) }
                Output.table(["FINGERPRINT", "OUTCOME", "STATUS", "SOURCE"], results.map { [$0.fingerprint, $0.outcome.rawValue, $0.status, source.rawValue] })
            }
            if failed { throw ExitCode(Lookup.failedStatus) }
        }
    }
}

extension CommandContext {
    /// The look-up as the keystore runs it, with this configuration's `dns.*`, `http.*` and `discovery.*`.
    func keyLookup() throws -> KeyLookup {
        do {
            let resolver = try DNSResolver(configuration, logger: logger)
            let fetcher = try HTTPFetcher(configuration, resolver: resolver, logger: logger)
            return KeyLookup(pool: pool, fetcher: fetcher, resolver: resolver, configuration: KeyDiscoveryConfiguration(configuration), logger: logger)
        } catch {
            throw Failure.configuration("\(error)")
        }
    }
}
