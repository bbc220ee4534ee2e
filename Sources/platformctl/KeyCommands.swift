import Aliases
import ArgumentParser
import Core
import Foundation
import Keystore

struct KeyCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Inspect and manage accounts' OpenPGP keystores, the addresses keys are published for, and look-ups of other people's keys.",
        subcommands: [List.self, Show.self, Import.self, Delete.self, Bind.self, Unbind.self, Lookup.self, ImportDiscovered.self]
    )

    struct AccountOption: ParsableArguments {
        @Option(help: "The account's ID.") var account: Int64
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an account's keys.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption

        func run() async throws {
            try await CommandContext.run(global) { context in
                let keys = try await context.keystore.keys(of: owner.account)
                if global.json { return try Output.json(keys) }
                Output.table(["FINGERPRINT", "ALGORITHM", "STATUS", "USER IDS", "BOUND", "SOURCE"], keys.map {
                    [$0.fingerprint, $0.algorithm, $0.status, $0.userIDs.map(\.text).joined(separator: "; "), $0.boundAddresses.joined(separator: " "), $0.source]
                })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one key: User IDs, validity, expiry, revocation, bindings, source.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The key's fingerprint.") var fingerprint: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                let key = try await context.keystore.key(fingerprint, of: owner.account)
                if global.json { return try Output.json(key) }
                let fields: [(String, String)] = [
                    ("fingerprint", key.fingerprint), ("version", String(key.version)), ("algorithm", key.algorithm),
                    ("status", key.status + (key.statusDetail.map { " (\($0))" } ?? "")), ("expires", Output.date(key.expiresAt)),
                    ("revoked", Output.date(key.revokedAt)), ("subkeys", String(key.subkeys)),
                    ("bound", key.boundAddresses.isEmpty ? "-" : key.boundAddresses.joined(separator: ", ")),
                    ("source", key.source), ("imported", Output.date(key.importedAt)), ("updated", Output.date(key.updatedAt)),
                ]
                for (name, value) in fields { print("\(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(value)") }
                for userID in key.userIDs { print("user id      \(userID.text)\(userID.revoked ? " [revoked]" : "")") }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import certificates (armored or binary; a keyring imports each) into an account's keystore.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The file to import, or - for standard input.") var file: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                let data: Data
                do {
                    data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
                } catch {
                    throw Failure.refused("cannot read \(file): \(error.localizedDescription)")
                }
                let results = try await context.keystore.importCertificates(Array(data), for: owner.account, source: .upload, by: CommandContext.actor().name)
                if global.json { return try Output.json(results) }
                Output.table(["FINGERPRINT", "OUTCOME", "STATUS", "LEFT OUT"], results.map {
                    [$0.fingerprint, $0.outcome.rawValue, $0.status, $0.dropped.isEmpty ? "-" : $0.dropped.joined(separator: "; ")]
                })
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a key from an account's keystore, with the account's bindings to it.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The key's fingerprint.") var fingerprint: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                try await context.keystore.deleteKey(fingerprint, of: owner.account, by: CommandContext.actor().name)
                if global.json { return try Output.json(["deleted": fingerprint]) }
                print("key \(fingerprint) removed from account \(owner.account)")
            }
        }
    }

    struct Bind: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish a key for one of the account's addresses (replaces the address's key).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The address.") var address: String
        @Argument(help: "The key's fingerprint.") var fingerprint: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                try await context.keystore.bind(address, to: fingerprint, of: owner.account, by: CommandContext.actor().name)
                if global.json { return try Output.json(["bound": address, "fingerprint": fingerprint]) }
                print("\(address) is bound to \(fingerprint)")
            }
        }
    }

    struct Unbind: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop publishing a key for an address.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The address.") var address: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                try await context.keystore.unbind(address, of: owner.account, by: CommandContext.actor().name)
                if global.json { return try Output.json(["unbound": address]) }
                print("\(address) has no key bound any more")
            }
        }
    }
}
