// palisade-wkd: the Web Key Directory of our users' keys, one User ID at a time, for our domains and
// customers' domains with WKD as a service. See README.md, "WKD publisher".
import Core
import WKDPublishing

let (configuration, logger) = await ServiceCommandLine.start(program: "palisade-wkd", settings: WKDSettings.all)
let database = PostgresConfiguration(configuration, applicationName: "palisade-wkd")
let pool = PostgresPool(configuration: database, logger: logger)
defer { pool.close() }
ServiceCommandLine.checked(configuration, program: "palisade-wkd")

// The HTTPS listener, when a certificates directory is configured: it must have a usable certificate at start.
let certificatesDirectory = WKDSettings.httpsCertificates.read(configuration)
let certificates = certificatesDirectory.isEmpty ? nil : WKDCertificates(directory: certificatesDirectory, logger: logger)
if let certificates, certificates.reload().serving.isEmpty {
    ServiceCommandLine.fail("palisade-wkd",
                            "wkd.https.certificates: \(certificatesDirectory) has no usable certificate (live/<name>/fullchain.pem and privkey.pem, readable by this user)")
}

// Ready for systemd once the ports are bound and the content is loaded.
let readiness = ServiceReadiness(parts: certificates == nil ? 2 : 3)
let content = WKDContent()
let publication = WKDPublication(pool: pool, logger: logger)
let sync = WKDContentSync(content: content, pool: pool, listening: database, fullReload: WKDSettings.reloadInterval.read(configuration),
                          logger: logger, onLoaded: { readiness.markReady() })
let wakeups = JobWakeups(configuration: database, logger: logger)
let worker = JobWorker(queue: WKDRefreshJob.queue, handlers: WKDApplication.handlers(publication), jobs: JobQueue(pool: pool, configuration),
                       wakeups: wakeups, options: JobWorker.Options(configuration, concurrency: WKDSettings.workers.read(configuration)), logger: logger)
let scheduler = JobScheduler(schedules: [WKDReconcileJob.recurring(every: WKDSettings.reconcileInterval.read(configuration))], pool: pool, logger: logger)
let listener = WKDApplication.server(content: content, pool: pool, host: WKDSettings.listenHost.read(configuration),
                                     port: WKDSettings.listenPort.read(configuration), logger: logger) { _ in readiness.markReady() }
let https = certificates.map {
    WKDApplication.httpsServer(content: content, certificates: $0, host: WKDSettings.httpsHost.read(configuration),
                               port: WKDSettings.httpsPort.read(configuration), logger: logger) { _ in readiness.markReady() }
}
let reloader = WKDCertificateReloader(certificates: certificates, interval: WKDSettings.httpsReloadInterval.read(configuration), logger: logger)
try await PalisadeServiceGroup(services: [sync, wakeups, worker, scheduler, listener, reloader] + (https.map { [$0] } ?? []),
                               logger: logger, readiness: readiness).run()
