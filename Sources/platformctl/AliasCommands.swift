import ArgumentParser
import Aliases
import Core

struct AliasCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aliases",
        abstract: "Manage an account's aliases under the alias rules (platform-domain aliases are never deleted after the cutoff).",
        subcommands: [List.self, Create.self, Disable.self, Enable.self, Delete.self]
    )

    struct AccountOption: ParsableArguments {
        @Option(help: "The account's ID.") var account: Int64
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an account's addresses, with whether each could be deleted now.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption

        func run() async throws {
            try await CommandContext.run(global) { context in
                let addresses = try await context.directory.addresses(of: owner.account)
                if global.json { return try Output.json(addresses) }
                Output.addresses(addresses)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an account a new alias.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The alias address.") var address: String
        @Flag(help: "Allow a reserved role name (postmaster, abuse, …) on a platform domain.") var allowReserved = false

        func run() async throws {
            try await CommandContext.run(global) { context in
                let alias = try await context.directory.createAlias(address, for: owner.account, by: CommandContext.actor(allowReserved: allowReserved))
                if global.json { return try Output.json(alias) }
                print("alias \(alias.address) created for account \(owner.account)")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an alias: it stops receiving and cannot send, and stays the account's.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The alias address.") var address: String

        func run() async throws {
            try await AliasCommands.setEnabled(false, address, of: owner.account, global)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled alias again.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The alias address.") var address: String

        func run() async throws {
            try await AliasCommands.setEnabled(true, address, of: owner.account, global)
        }
    }

    /// What `disable` and `enable` share.
    static func setEnabled(_ enabled: Bool, _ address: String, of account: Int64, _ global: GlobalOptions) async throws {
        try await CommandContext.run(global) { context in
            let alias = try await context.directory.setEnabled(enabled, address, of: account, by: CommandContext.actor())
            if global.json { return try Output.json(alias) }
            print("alias \(alias.address) \(enabled ? "enabled" : "disabled")")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an alias where the rules allow it (custom domains; platform domains only before the cutoff)."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var owner: AccountOption
        @Argument(help: "The alias address.") var address: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                try await context.directory.deleteAlias(address, of: owner.account, by: CommandContext.actor())
                if global.json { return try Output.json(["deleted": address]) }
                print("alias \(address) deleted (the address stays reserved to account \(owner.account))")
            }
        }
    }
}
