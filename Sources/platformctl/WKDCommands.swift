import Aliases
import ArgumentParser
import Core
import Foundation
import WKDPublishing

/// `platformctl wkd …`: WKD as a service for customers' domains, the static export, reconciliation.
struct WKDCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wkd",
        abstract: "The Web Key Directory: WKD as a service for custom domains, the static export, reconciliation.",
        subcommands: [Enable.self, Disable.self, Export.self, Reconcile.self]
    )

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a customer's domain (its owner points openpgpkey.<domain> at the publisher).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The custom domain.") var domain: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                let changed = try await WKDServiceDomains(pool: context.pool, logger: context.logger).enable(domain, by: CommandContext.actor().name)
                if global.json { return try Output.json(["domain": domain, "changed": changed ? "yes" : "no"]) }
                print(changed ? "WKD is now served for \(domain)" : "WKD was already served for \(domain)")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop serving a customer's domain.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The custom domain.") var domain: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                let changed = try await WKDServiceDomains(pool: context.pool, logger: context.logger).disable(domain, by: CommandContext.actor().name)
                if global.json { return try Output.json(["domain": domain, "changed": changed ? "yes" : "no"]) }
                print(changed ? "WKD is no longer served for \(domain)" : "WKD was not served for \(domain)")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write what the publisher serves as a directory tree for a web server (both methods, policy files), atomically.",
            discussion: "DIR becomes a symbolic link to a complete tree beside it (DIR.<time>); each export replaces it in one rename and removes the old tree.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The directory (a symbolic link the export manages).") var directory: String

        func run() async throws {
            try await CommandContext.run(global) { context in
                let content = WKDContent()
                try await content.reloadAll(from: context.pool)
                let (domains, entries) = content.all
                let summary: WKDExport.Summary
                do {
                    summary = try WKDExport.write(domains: domains, entries: entries, to: directory)
                } catch let failure as WKDExport.Failure {
                    throw Failure.refused(failure.description)
                }
                if global.json { return try Output.json(summary) }
                print("exported \(summary.entries) entries of \(summary.domains) domains (\(summary.files) files) to \(summary.directory)")
            }
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ask the publisher to recompute every entry now (a wkd.reconcile job).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await CommandContext.run(global) { context in
                let result = try await JobQueue(pool: context.pool).enqueue(
                    NewJob(kind: WKDReconcileJob.kind, queue: WKDRefreshJob.queue, uniqueKey: "schedule:\(WKDReconcileJob.kind)"))
                if global.json { return try Output.json(["enqueued": result == .duplicate ? "already waiting" : "yes"]) }
                print(result == .duplicate ? "a reconciliation is already waiting or running" : "reconciliation enqueued")
            }
        }
    }
}
