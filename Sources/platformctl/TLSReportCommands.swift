import ArgumentParser
import Core
import Foundation
import Logging
import TLSReporting

/// `platformctl tlsrpt …`: TLS reports (RFC 8460) taken in by mail, and what the reports say.
struct TLSReportCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tlsrpt",
        abstract: "SMTP TLS reports (RFC 8460) about our domains: take one in from a mail, summarise what they say.",
        subcommands: [Ingest.self, Summary.self]
    )

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store the TLS report in the mail (RFC 5322) on standard input; for a Postfix pipe transport.",
            discussion: """
                The report is the message's application/tlsrpt+gzip or application/tlsrpt+json part (--format json or gzip reads a \
                bare report instead). It is validated, refused if it is about a domain that is not ours, stored once per \
                organisation and report-id, and aggregated by palisade-transport's tlsrpt.process job. DKIM signatures are not \
                verified yet: reports by mail are stored as unverified and kept out of metrics and alerts (RFC 8460 section 3). \
                Exit status as sysexits(3), which Postfix's pipe understands: 0 stored or already stored; 65 (EX_DATAERR) the \
                report is refused, with the reason on standard error; 75 (EX_TEMPFAIL) the database or the configuration \
                failed, so Postfix keeps the mail and tries again.
                """)
        static let dataError: Int32 = 65
        static let temporaryFailure: Int32 = 75

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case mail, json, gzip
        }

        @OptionGroup var global: GlobalOptions
        @Option(help: "What standard input holds: mail (a report mail), json or gzip (a bare report).") var format: Format = .mail

        struct Answer: Encodable {
            var status: String
            var reportID: String
            var id: Int64
            var origin: String
        }

        func run() async throws {
            do {
                try await CommandContext.run(global) { context in
                    let limits = TLSReportSettings.limits(context.configuration)
                    let input = Self.readStandardInput(max: TLSReportMail.maxMessageSize(limits) + 1)
                    let intake = TLSReportIntake(pool: context.pool, limits: limits, logger: context.logger)
                    let origin = ReportOrigin.mailUnverified
                    do {
                        let received = switch format {
                        case .mail: try await intake.receive(mail: input)
                        case .json, .gzip: try await intake.receive(TLSReportPayload(format: format == .json ? .json : .gzip, bytes: input), origin: origin)
                        }
                        let answer = Answer(status: received.stored.outcome, reportID: received.report.reportID, id: received.stored.id, origin: origin.rawValue)
                        if global.json { return try Output.json(answer) }
                        print(answer.status == "stored" ? "stored report \(answer.reportID) (\(answer.origin))"
                                                        : "report \(answer.reportID) is stored already: nothing changed")
                    } catch let refusal as TLSReportError {
                        FileHandle.standardError.write(Data("platformctl: \(refusal.kind.rawValue): \(refusal.message)\n".utf8))
                        throw ExitCode(Self.dataError)
                    }
                }
            } catch let exit as ExitCode where exit.rawValue == Self.dataError || exit.rawValue == 0 {
                throw exit
            } catch is ExitCode {
                // Configuration or database failures (reported already): Postfix keeps the mail.
                throw ExitCode(Self.temporaryFailure)
            } catch {
                // Anything else is ours to fix, not the sender's: Postfix keeps the mail (an exit status outside
                // sysexits would bounce it).
                FileHandle.standardError.write(Data("platformctl: \(error)\n".utf8))
                throw ExitCode(Self.temporaryFailure)
            }
        }

        /// Standard input, at most `max` bytes (the rest is not read; the size check refuses it).
        static func readStandardInput(max: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            let handle = FileHandle.standardInput
            while bytes.count < max {
                let chunk = handle.readData(ofLength: min(65_536, max - bytes.count))
                if chunk.isEmpty { break }
                bytes.append(contentsOf: chunk)
            }
            return bytes
        }
    }

    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Successful and failed sessions per policy domain, and the top failure reasons, from the reports of recent days.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Reports for days from this long ago (UTC), e.g. 7d, 24h.") var since = "7d"
        @Option(help: "Only this policy domain.") var domain: String?
        @Option(help: "How many failure reasons to list.") var top = 10

        func run() async throws {
            guard let window = ConfigDuration.parse(since), window > .zero else {
                throw ValidationError("--since: \"\(since)\" is not a duration such as 7d or 24h")
            }
            guard (1...1000).contains(top) else { throw ValidationError("--top: between 1 and 1000") }
            let name = try domain.map { text -> String in
                do { return try DomainName(text).ascii } catch { throw ValidationError("--domain: \"\(text)\" is not a domain name: \(error)") }
            }
            try await CommandContext.run(global) { context in
                let first = Date().addingTimeInterval(-window.inSeconds).formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
                let summary = try await TLSReportStore(pool: context.pool).summary(since: first, domain: name, top: top)
                if global.json { return try Output.json(summary) }
                let reports = summary.reports
                var line = "TLS reports for days from \(summary.since) (UTC): \(reports.total)"
                if reports.unverified > 0 { line += ", \(reports.unverified) by mail without a verified DKIM signature (not in metrics or alerts)" }
                if reports.unprocessed > 0 { line += ", \(reports.unprocessed) not yet aggregated" }
                print(line)
                guard !summary.domains.isEmpty else { return print("no sessions reported") }
                print("")
                Output.table(["DOMAIN", "SUCCESSFUL", "FAILED", "FAILURE RATE"], summary.domains.map {
                    [$0.domain, "\($0.successful)", "\($0.failed)", String(format: "%.2f%%", $0.failureRate * 100)]
                })
                guard !summary.topFailures.isEmpty else { return }
                print("\nTop failure reasons")
                Output.table(["DOMAIN", "POLICY", "RESULT", "RECEIVING MX", "REPORTED BY", "SESSIONS"], summary.topFailures.map {
                    [$0.domain, $0.policyType, $0.resultType, $0.receivingMX.isEmpty ? "-" : $0.receivingMX, $0.organization, "\($0.sessions)"]
                })
            }
        }
    }
}
