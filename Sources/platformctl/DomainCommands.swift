import ArgumentParser
import Aliases
import Core

struct Domains: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register and list platform and custom domains.",
        subcommands: [Add.self, List.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a platform domain (--platform) or an account's custom domain (--account ID)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The domain name (IDNs are stored as A-labels).") var name: String
        @Flag(help: "One of the provider's own domains.") var platform = false
        @Option(help: "The account that owns this custom domain.") var account: Int64?

        func validate() throws {
            guard platform != (account != nil) else { throw ValidationError("give exactly one of --platform and --account ID") }
        }

        func run() async throws {
            try await CommandContext.run(global) { context in
                let domain = if let account {
                    try await context.directory.addCustomDomain(name, for: account, by: CommandContext.actor())
                } else {
                    try await context.directory.addPlatformDomain(name, by: CommandContext.actor())
                }
                if global.json { return try Output.json(domain) }
                print("\(domain.kind) domain \(domain.name) registered" + (domain.accountID.map { " for account \($0)" } ?? ""))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List domains: all, or those an account may use (--account).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only the platform domains and this account's custom domains.") var account: Int64?

        func run() async throws {
            try await CommandContext.run(global) { context in
                let domains = try await context.directory.domains(for: account)
                if global.json { return try Output.json(domains) }
                Output.domains(domains)
            }
        }
    }
}
