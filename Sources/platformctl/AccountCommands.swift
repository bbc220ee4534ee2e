import ArgumentParser
import Aliases
import Core

struct Accounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open, inspect and close accounts.",
        subcommands: [Create.self, List.self, Show.self, Close.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open an account with its primary address on a platform domain.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The primary address, e.g. alice@mail.example.") var primary: String
        @Flag(help: "Allow a reserved role name (postmaster, abuse, …) as the local part.") var allowReserved = false

        func run() async throws {
            try await CommandContext.run(global) { context in
                let account = try await context.directory.createAccount(primary: primary, by: CommandContext.actor(allowReserved: allowReserved))
                if global.json { return try Output.json(account) }
                print("account \(account.id) opened with primary address \(account.primaryAddress ?? primary)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "At most this many rows.") var limit = 100

        func validate() throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 100000") }
        }

        func run() async throws {
            try await CommandContext.run(global) { context in
                let accounts = try await context.directory.accounts(limit: limit)
                if global.json { return try Output.json(accounts) }
                Output.accounts(accounts)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an account and all its addresses.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account's ID.") var id: Int64

        struct Shown: Encodable {
            let account: AccountRecord
            let addresses: [AddressRecord]
        }

        func run() async throws {
            try await CommandContext.run(global) { context in
                let account = try await context.directory.account(id)
                let addresses = try await context.directory.addresses(of: id)
                if global.json { return try Output.json(Shown(account: account, addresses: addresses)) }
                Output.accounts([account])
                print()
                Output.addresses(addresses)
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close an account: its addresses stop receiving and sending, and stay reserved to it for ever."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account's ID.") var id: Int64

        func run() async throws {
            try await CommandContext.run(global) { context in
                let account = try await context.directory.closeAccount(id, by: CommandContext.actor())
                if global.json { return try Output.json(account) }
                print("account \(id) closed")
            }
        }
    }
}
