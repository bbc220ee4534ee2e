// palisade-transport: Postfix's TLS policy (smtp_tls_policy_maps over socketmap) from MTA-STS and DANE
// decided together, cached in PostgreSQL for every instance; our own MTA-STS policy over HTTP(S); and TLS
// reports (RFC 8460) taken in by HTTPS POST and aggregated by tlsrpt.process jobs; and, with transport.milter.port,
// a milter enforcing senders' DMARC policies (SPF, DKIM, DMARC) for Postfix's smtpd_milters.
// See README.md, "Transport-policy daemon".
import Core
import DNS
import Foundation
import HTTPFetch
import HTTPService
import Hummingbird
import MailPolicy
import TLSCertificates
import TransportPolicy
import ServiceLifecycle
import TLSReporting
import UnixSignals

let program = "palisade-transport"
// SIGHUP reloads the HTTPS certificates: trapped before anything else, so that a reload sent while the
// service starts never ends it.
let hangups = await UnixSignalsSequence(trapping: .sighup)
let (configuration, logger) = await ServiceCommandLine.start(
    program: program, settings: TransportSettings.all + MilterSettings.all + TLSReportSettings.all + DNSSettings.all + HTTPFetchSettings.all)
let database = PostgresConfiguration(configuration, applicationName: program)
let pool = PostgresPool(configuration: database, logger: logger)
defer { pool.close() }
let socketmapPort = TransportSettings.socketmapPort.read(configuration)
let socketmapPath = TransportSettings.socketmapPath.read(configuration)
let listen = SocketmapServer.Listen(
    host: TransportSettings.socketmapHost.read(configuration), port: socketmapPort < 0 ? nil : socketmapPort,
    path: socketmapPath.isEmpty ? nil : socketmapPath, pathMode: UInt16(TransportSettings.socketmapPathMode.read(configuration), radix: 8) ?? 0o660)
let httpHost = TransportSettings.httpHost.read(configuration)
let httpPort = TransportSettings.httpPort.read(configuration)
let https = (certificates: TransportSettings.httpsCertificates.read(configuration), host: TransportSettings.httpsHost.read(configuration),
             port: TransportSettings.httpsPort.read(configuration), reloadInterval: TransportSettings.httpsReloadInterval.read(configuration))
let ownDomains = TransportSettings.ownPolicyDomains.read(configuration).compactMap { try? DomainName($0) }
let reportPath = TLSReportSettings.path.read(configuration)
let reportLimits = TLSReportSettings.limits(configuration)
let reportAlerting = TLSReportSettings.alerting(configuration)
let reportRetention = TLSReportSettings.retention.read(configuration)
let workerOptions = JobWorker.Options(configuration, concurrency: TransportSettings.workers.read(configuration))
let jobs = JobQueue(pool: pool, configuration)
ServiceCommandLine.checked(configuration, program: program)
if listen.port == nil && listen.path == nil {
    ServiceCommandLine.fail(program, "configuration error:\ntransport.socketmap.port is -1 and transport.socketmap.path is empty: no socketmap listener")
}
let ownPolicy = TransportSettings.ownPolicy(configuration)
if let ownPolicy, ownPolicy.mode != .none, ownPolicy.mx.isEmpty {
    ServiceCommandLine.fail(program, "configuration error:\ntransport.ownPolicy.mx is empty: a policy in mode \(ownPolicy.mode.rawValue) needs at least one mx pattern")
}
// The HTTPS listener, when a certificates directory is configured: it serves our policy and takes TLS reports, so it needs one of
// them, and a usable certificate at start.
let certificates = https.certificates.isEmpty ? nil : CertificateDirectory(directory: https.certificates, metricsPrefix: "palisade_transport", logger: logger)
if certificates != nil, ownPolicy == nil, reportPath.isEmpty {
    ServiceCommandLine.fail(program, "configuration error:\ntransport.https.certificates is set but transport.ownPolicy.domains and tlsrpt.path are empty: the HTTPS listener would serve nothing")
}
if let certificates, certificates.reload().serving.isEmpty {
    ServiceCommandLine.fail(program, "configuration error:\ntransport.https.certificates: \(https.certificates) has no usable certificate (live/<name>/fullchain.pem and privkey.pem, readable by this user)")
}
let checker: TransportPolicyChecker
let milterPort = MilterSettings.port.read(configuration)
let milterPath = MilterSettings.path.read(configuration)
var authenticator: MailAuthenticator?
do {
    let resolver = try DNSResolver(configuration, logger: logger)
    if milterPort >= 0 || !milterPath.isEmpty { authenticator = try MilterSettings.authenticator(configuration, resolver: resolver) }
    let fetcher = try HTTPFetcher(configuration, resolver: resolver, logger: logger)
    checker = TransportPolicyChecker(sts: MTASTSLookup(resolver: resolver, fetcher: fetcher, options: TransportSettings.lookupOptions(configuration)),
                                     dane: DANELookup(resolver: resolver), timing: TransportSettings.timing(configuration))
} catch {
    ServiceCommandLine.fail(program, "configuration error:\n\(error)")
}

let cache = TransportPolicyCache(capacity: TransportSettings.memoryEntries.read(configuration))
let policyResolver = TransportPolicyResolver(profiles: TransportSettings.profilesByName(configuration), checker: checker, pool: pool, cache: cache,
                                             options: TransportSettings.decisionOptions(configuration), logger: logger)
let sync = TransportCacheSync(cache: cache, pool: pool, listening: database, logger: logger)
let wakeups = JobWakeups(configuration: database, logger: logger)
var handlers = TransportRefreshJob.handlers(checker: checker, pool: pool, logger: logger)
handlers[TransportPruneJob.kind] = TransportPruneJob.handler(pool: pool, retention: TransportSettings.unusedRetention.read(configuration), logger: logger)
handlers[TransportSweepJob.kind] = TransportSweepJob.handler(pool: pool, window: TransportSettings.proactiveWindow.read(configuration), logger: logger)
handlers[TLSReportProcessJob.kind] = TLSReportProcessJob.handler(pool: pool, alerting: reportAlerting, logger: logger)
handlers[TLSReportPruneJob.kind] = TLSReportPruneJob.handler(pool: pool, retention: reportRetention, logger: logger)
handlers[DMARCAggregatePruneJob.kind] = DMARCAggregatePruneJob.handler(pool: pool, retention: MilterSettings.aggregateRetention.read(configuration), logger: logger)
let worker = JobWorker(queue: TransportRefreshJob.queue, handlers: handlers, jobs: jobs, wakeups: wakeups, options: workerOptions, logger: logger)
let scheduler = JobScheduler(schedules: [TransportPruneJob.recurring(every: .seconds(3600)),
                                         TransportSweepJob.recurring(every: TransportSettings.sweepInterval.read(configuration)),
                                         TLSReportPruneJob.recurring(), DMARCAggregatePruneJob.recurring()],
                             pool: pool, logger: logger)
let usage = TransportUsageRecorder(cache: cache, pool: pool, logger: logger)

// /healthz (PostgreSQL answering), /metrics, our own MTA-STS policy and the TLS report intake (the last two over HTTPS too).
let intake = TLSReportIntake(pool: pool, limits: reportLimits, logger: logger)
let reportsInFlight = TLSReportRoutes.InFlight(reports: TLSReportSettings.maxConcurrent.read(configuration))
let publicRoutes: (Router<ServiceRequestContext>) -> Void = { router in
    if let ownPolicy { OwnPolicyRoutes.add(to: router, policy: ownPolicy, domains: ownDomains) }
    if !reportPath.isEmpty { TLSReportRoutes.add(to: router, path: reportPath, intake: intake, limits: reportLimits, inFlight: reportsInFlight) }
}
let router = Router(context: ServiceRequestContext.self)
router.add(middleware: MetricsMiddleware())
OperationalRoutes.add(to: router, healthy: OperationalRoutes.databaseCheck(pool))
publicRoutes(router)
// Ready for systemd once every listener is bound.
let readiness = ServiceReadiness(parts: (certificates == nil ? 2 : 3) + (authenticator == nil ? 0 : 1))
let milter: [any Service] = authenticator.map { authenticator in
    [MilterServer(host: MilterSettings.host.read(configuration), port: milterPort < 0 ? nil : milterPort, path: milterPath.isEmpty ? nil : milterPath,
                  pathMode: UInt16(MilterSettings.pathMode.read(configuration), radix: 8) ?? 0o660, authenticator: authenticator,
                  maximumMessageSize: MilterSettings.maxMessageSize.read(configuration), aggregate: DMARCAggregateStore(pool: pool),
                  logger: logger) { _ in readiness.markReady() }]
} ?? []
var httpsListener: [any Service] = []
if let certificates {
    do {
        httpsListener = [try TransportHTTPSServer.make(certificates: certificates, host: https.host, port: https.port, logger: logger, routes: publicRoutes) { _ in
            readiness.markReady()
        }]
    } catch {
        ServiceCommandLine.fail(program, "configuration error:\ntransport.https: \(error)")
    }
}
let reloader = CertificateReloader(certificates: certificates, hangups: hangups, interval: https.reloadInterval, logger: logger)
let http = ServiceApplication.make(router, serverName: program, host: httpHost, port: httpPort, logger: logger) { _ in readiness.markReady() }
let socketmap = SocketmapServer(listen: listen, resolver: policyResolver, idleTimeout: TransportSettings.idleTimeout.read(configuration),
                                maxConnections: TransportSettings.maxConnections.read(configuration),
                                threads: TransportSettings.threads.read(configuration), logger: logger) { _ in readiness.markReady() }
try await PalisadeServiceGroup(services: [sync, wakeups, worker, scheduler, usage, http, socketmap, reloader] + httpsListener + milter, logger: logger, readiness: readiness).run()
