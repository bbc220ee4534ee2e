import ArgumentParser
import Core
import DNS
import Foundation
import HTTPFetch
import MailPolicy
import TransportPolicy

/// `platformctl transport …`: what the transport-policy daemon tells Postfix for a destination, and why.
struct TransportCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "The transport-policy daemon: what Postfix is told for a destination domain, and why.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let temporaryStatus: Int32 = 9

        static let configuration = CommandConfiguration(
            abstract: "Look a destination up now (DNS and DNSSEC, MTA-STS, TLSA) and print the answer of each profile.",
            discussion: """
                Without --cached the domain is looked up afresh with the daemon's settings (transport.*, dns.*, http.*), as \
                palisade-transport does for a domain it sees for the first time; nothing is stored. --cached shows the entry \
                the daemons share in PostgreSQL instead. Exits 9 when the answer is a temporary failure.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this profile (map name); default: every configured one.") var profile: String?
        @Flag(help: "Show the entry cached in PostgreSQL instead of looking it up.") var cached = false
        @Argument(help: "The destination domain, as Postfix asks for it.") var domain: String

        struct Report: Encodable {
            var domain: String
            var entry: TransportPolicyEntry
            var answers: [Answer]
            struct Answer: Encodable {
                var profile: String
                var kind: String
                var reply: String
                var reason: String
            }
        }

        func run() async throws {
            var temporary = false
            try await CommandContext.run(global) { context in
                let config = context.configuration
                let profiles = TransportSettings.profilesByName(config)
                let chosen = try profile.map { name in
                    guard let found = profiles[name] else { throw Failure.refused("no profile \(name); configured: \(profiles.keys.sorted().joined(separator: ", "))") }
                    return [found]
                } ?? profiles.values.sorted { $0.name < $1.name }
                let key = TransportKey(domain)
                guard case .domain(let name) = key else {
                    if case .other(let why) = key { throw Failure.refused("\(domain) is \(why): Postfix is told NOTFOUND at once") }
                    return
                }
                let entry: TransportPolicyEntry
                if cached {
                    guard let stored = try await TransportPolicyStore(pool: context.pool).load(name.ascii) else {
                        throw Failure.refused("\(name) is not cached (no look-up asked for it, or it was pruned)")
                    }
                    entry = stored
                } else {
                    let resolver = try DNSResolver(config, logger: context.logger)
                    defer { resolver.close() }
                    let fetcher = try HTTPFetcher(config, resolver: resolver, logger: context.logger)
                    let checker = TransportPolicyChecker(
                        sts: MTASTSLookup(resolver: resolver, fetcher: fetcher, options: TransportSettings.lookupOptions(config)),
                        dane: DANELookup(resolver: resolver), timing: TransportSettings.timing(config))
                    entry = await checker.check(name, previous: nil, at: Date())
                }
                let now = Date()
                let answers = chosen.map { profile in
                    let answer = TransportDecision.decide(entry, profile: profile, options: TransportSettings.decisionOptions(config), at: now)
                    return Report.Answer(profile: profile.name, kind: answer.kind.rawValue, reply: answer.reply.text.trimmingCharacters(in: .whitespaces), reason: answer.reason)
                }
                temporary = answers.contains { $0.kind == TransportAnswer.Kind.temporary.rawValue }
                if global.json { return try Output.json(Report(domain: name.ascii, entry: entry, answers: answers)) }
                print(Self.describe(entry, at: now))
                for answer in answers {
                    print("map \(answer.profile): \(answer.reply)")
                    if answer.kind != TransportAnswer.Kind.temporary.rawValue { print("  because \(answer.reason)") }
                }
            }
            if temporary { throw ExitCode(Self.temporaryStatus) }
        }

        static func describe(_ entry: TransportPolicyEntry, at time: Date) -> String {
            let dane = entry.dane.result
            var lines = ["\(entry.domain)"]
            lines.append("  MX (\(dane.mxSecure ? "DNSSEC secure" : "not secure")): \(dane.mxHosts.isEmpty ? "-" : dane.mxHosts.joined(separator: ", "))")
            lines.append("  DANE: \(dane.status.rawValue)" + (dane.daneHosts.isEmpty ? "" : " (TLSA on \(dane.daneHosts.joined(separator: ", ")))"))
            if !dane.reason.isEmpty { lines.append("    \(dane.reason)") }
            if let error = entry.dane.lastError, dane.status != .failed { lines.append("    last refresh failed: \(error)") }
            lines.append("    checked \(Output.date(entry.dane.checkedAt)), valid until \(Output.date(entry.dane.validUntil))")
            let sts = entry.sts
            lines.append("  MTA-STS: last check \(sts.lastCheck.rawValue) at \(Output.date(sts.checkedAt))" + (sts.detail.map { ": \($0)" } ?? ""))
            if let policy = sts.policy {
                let state = sts.policy(at: time) == nil ? "expired" : "in force"
                lines.append("    policy id \(sts.policyID ?? "?") (\(state), expires \(Output.date(sts.expiresAt))): mode \(policy.mode.rawValue), "
                             + "mx \(policy.mx.map(\.description).joined(separator: ", ")), max_age \(policy.maxAge)")
            } else {
                lines.append("    no policy cached")
            }
            return lines.joined(separator: "\n")
        }
    }
}
