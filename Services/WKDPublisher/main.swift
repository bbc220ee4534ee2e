// palisade-wkd: the Web Key Directory of our users' keys, one User ID at a time, for our domains and
// customers' domains with WKD as a service. See README.md, "WKD publisher".
import Core
import UnixSignals
import WKDPublishing
import TLSCertificates

// SIGHUP reloads the HTTPS certificates: trapped before anything else, so that a reload sent while the
// service starts never ends it.
let hangups = await UnixSignalsSequence(trapping: .sighup)
let (configuration, logger) = await ServiceCommandLine.start(program: "palisade-wkd", settings: WKDSettings.all)
let database = PostgresConfiguration(configuration, applicationName: "palisade-wkd")
// Every setting is read before the check, so that a value out of range stops start-up instead of its default running.
let http = (host: WKDSettings.listenHost.read(configuration), port: WKDSettings.listenPort.read(configuration))
let https = (certificates: WKDSettings.httpsCertificates.read(configuration), host: WKDSettings.httpsHost.read(configuration),
             port: WKDSettings.httpsPort.read(configuration), reloadInterval: WKDSettings.httpsReloadInterval.read(configuration))
let fullReload = WKDSettings.reloadInterval.read(configuration)
let reconcileInterval = WKDSettings.reconcileInterval.read(configuration)
let workerOptions = JobWorker.Options(configuration, concurrency: WKDSettings.workers.read(configuration))
let pool = PostgresPool(configuration: database, logger: logger)
defer { pool.close() }
let jobs = JobQueue(pool: pool, configuration)
ServiceCommandLine.checked(configuration, program: "palisade-wkd")

// The HTTPS listener, when a certificates directory is configured: it must have a usable certificate at start.
let certificates = https.certificates.isEmpty ? nil : CertificateDirectory(directory: https.certificates, metricsPrefix: "palisade_wkd", logger: logger)
if let certificates, certificates.reload().serving.isEmpty {
    ServiceCommandLine.fail("palisade-wkd",
                            "wkd.https.certificates: \(https.certificates) has no usable certificate (live/<name>/fullchain.pem and privkey.pem, readable by this user)")
}

// Ready for systemd once the ports are bound and the content is loaded.
let readiness = ServiceReadiness(parts: certificates == nil ? 2 : 3)
let content = WKDContent()
let publication = WKDPublication(pool: pool, logger: logger)
let sync = WKDContentSync(content: content, pool: pool, listening: database, fullReload: fullReload,
                          logger: logger, onLoaded: { readiness.markReady() })
let wakeups = JobWakeups(configuration: database, logger: logger)
let worker = JobWorker(queue: WKDRefreshJob.queue, handlers: WKDApplication.handlers(publication), jobs: jobs,
                       wakeups: wakeups, options: workerOptions, logger: logger)
let scheduler = JobScheduler(schedules: [WKDReconcileJob.recurring(every: reconcileInterval)], pool: pool, logger: logger)
let listener = WKDApplication.server(content: content, pool: pool, host: http.host, port: http.port, logger: logger) { _ in readiness.markReady() }
let httpsListener = certificates.map {
    WKDApplication.httpsServer(content: content, certificates: $0, host: https.host, port: https.port, logger: logger) { _ in readiness.markReady() }
}
let reloader = CertificateReloader(certificates: certificates, hangups: hangups, interval: https.reloadInterval, logger: logger)
try await PalisadeServiceGroup(services: [sync, wakeups, worker, scheduler, listener, reloader] + (httpsListener.map { [$0] } ?? []),
                               logger: logger, readiness: readiness).run()
