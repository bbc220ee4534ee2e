import ArgumentParser
import Core
import DNS
import DomainDoctor
import Foundation
import HTTPFetch
import Logging
import TransportPolicy

/// `platformctl doctor`: whether our own domains publish what senders, CAs and key finders need.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check our domains' CAA, DNSSEC, MTA-STS, DANE, TLSRPT, DMARC and WKD as the outside world sees them.",
        discussion: """
            Every platform domain (or those named with --domain) is looked up through the validating resolver (dns.*), its \
            MTA-STS policy, TLS report endpoint and WKD policy files fetched over HTTPS with certificate checks, and every \
            address of every MX probed with STARTTLS to match the certificate it presents against its TLSA records. Domains \
            with WKD as a service get the WKD check only. Each finding is pass, warn or fail, with the reason and the fix. \
            Exit status, as monitoring plugins use it: 0 all pass, 1 warnings, 2 a failure; 3 configuration error, 4 database \
            unreachable.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("domain"), help: "Check only this domain (repeatable).") var domains: [String] = []

    struct Report: Encodable {
        struct Domain: Encodable {
            let domain: String
            let status: String
            let findings: [DoctorFinding]
        }
        let status: String
        let domains: [Domain]
    }

    func run() async throws {
        var worst = DoctorFinding.Status.pass
        try await DoctorContext.run(global, domains: domains) { context, targets in
            var diagnoses: [DomainDiagnosis] = []
            for target in targets {
                diagnoses.append(target.platform ? await context.doctor.diagnose(target.name, wkd: true)
                                                 : DomainDiagnosis(domain: target.name.ascii, findings: await context.doctor.diagnoseWKDOnly(target.name)))
            }
            worst = diagnoses.map(\.status).max() ?? .pass
            if global.json {
                return try Output.json(Report(status: worst.rawValue, domains: diagnoses.map { Report.Domain(domain: $0.domain, status: $0.status.rawValue, findings: $0.findings) }))
            }
            for diagnosis in diagnoses {
                print("\(diagnosis.domain): \(diagnosis.status.rawValue.uppercased())")
                for finding in diagnosis.findings {
                    let subject = finding.subject.map { "\($0): " } ?? ""
                    print("  \(finding.status.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0))  \(finding.check.padding(toLength: 7, withPad: " ", startingAt: 0))  \(subject)\(finding.reason)")
                    if let fix = finding.fix, finding.status != .pass {
                        print("                 fix: " + fix.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n                   "))
                    }
                }
            }
            let counts = Dictionary(grouping: diagnoses, by: \.status).mapValues(\.count)
            print("\(diagnoses.count) domain\(diagnoses.count == 1 ? "" : "s"): \(counts[.pass] ?? 0) pass, \(counts[.warn] ?? 0) warn, \(counts[.fail] ?? 0) fail")
        }
        switch worst {
        case .pass: return
        case .warn: throw ExitCode(1)
        case .fail: throw ExitCode(2)
        }
    }
}

/// `platformctl dns records`: the zone lines our configuration says each platform domain should publish.
struct DNSCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "The DNS records our domains should publish.",
        subcommands: [Records.self]
    )

    struct Records: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the CAA, MTA-STS, TLSRPT, DMARC and TLSA zone lines for every platform domain.",
            discussion: """
                CAA from doctor.caa.*, the _mta-sts id of the policy palisade-transport serves (transport.ownPolicy.*; it changes \
                exactly when the policy does), TLSRPT from doctor.tlsrpt.rua, DMARC from doctor.dmarc.*, and for every MX host a \
                3 1 1 TLSA record of the key it presents now (a STARTTLS probe) and of each doctor.dane.nextCertificates.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("domain"), help: "Only this domain (repeatable).") var domains: [String] = []

        struct Entry: Encodable {
            let domain: String
            let records: [ZoneRecord]
        }

        func run() async throws {
            try await DoctorContext.run(global, domains: domains) { context, targets in
                var entries: [Entry] = []
                for target in targets where target.platform {
                    entries.append(Entry(domain: target.name.ascii, records: await context.doctor.zoneRecords(target.name)))
                }
                if global.json { return try Output.json(entries) }
                for entry in entries {
                    print("; \(entry.domain)")
                    for record in entry.records {
                        if !record.data.isEmpty { print("; \(record.comment)") }
                        print(record.line)
                    }
                    print("")
                }
            }
        }
    }
}

/// What both commands need: the doctor, and the domains to look at.
struct DoctorContext {
    struct Target {
        let name: DomainName
        /// A platform domain (all checks) rather than a custom domain with WKD as a service (WKD only).
        let platform: Bool
    }

    let doctor: DomainDoctor

    static func run(_ global: GlobalOptions, domains: [String], _ body: (DoctorContext, [Target]) async throws -> Void) async throws {
        try await CommandContext.run(global) { context in
            let config = context.configuration
            var doctorConfiguration: DoctorConfiguration
            do {
                doctorConfiguration = try DoctorConfiguration(config)
            } catch {
                throw Failure.configuration("\(error)")
            }
            doctorConfiguration.ownPolicy = TransportSettings.ownPolicy(config)
            doctorConfiguration.ownPolicyDomains = Set(TransportSettings.ownPolicyDomains.read(config).compactMap { try? DomainName($0).ascii })
            var targets: [Target] = []
            for row in try await context.pool.query("""
                SELECT d.name, d.kind = 'platform' AS platform FROM domains d
                WHERE d.kind = 'platform' OR EXISTS (SELECT 1 FROM wkd_service_domains s WHERE s.domain_id = d.id)
                ORDER BY d.name
                """) {
                targets.append(Target(name: try DomainName(try row.decode("name", as: String.self)), platform: try row.decode("platform")))
            }
            if !domains.isEmpty {
                let wanted = try domains.map { name in
                    do { return try DomainName(name) } catch { throw Failure.refused("\(error)") }
                }
                let known = Dictionary(targets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
                targets = wanted.map { known[$0] ?? Target(name: $0, platform: true) }
            }
            let resolver = try DNSResolver(config, logger: context.logger)
            defer { resolver.close() }
            let fetcher = try HTTPFetcher(config, resolver: resolver, logger: context.logger)
            try await body(DoctorContext(doctor: DomainDoctor(configuration: doctorConfiguration, resolver: resolver, fetcher: fetcher)), targets)
        }
    }
}
