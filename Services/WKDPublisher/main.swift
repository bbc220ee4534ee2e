// palisade-wkd: the Web Key Directory of our users' keys, one User ID at a time, for our domains and
// customers' domains with WKD as a service. See README.md, "WKD publisher".
import Core
import WKDPublishing

let (configuration, logger) = await ServiceCommandLine.start(program: "palisade-wkd", settings: WKDSettings.all)
let database = PostgresConfiguration(configuration, applicationName: "palisade-wkd")
let pool = PostgresPool(configuration: database, logger: logger)
defer { pool.close() }
ServiceCommandLine.checked(configuration, program: "palisade-wkd")

// Ready for systemd once the port is bound and the content is loaded.
let readiness = ServiceReadiness(parts: 2)
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
try await PalisadeServiceGroup(services: [sync, wakeups, worker, scheduler, listener], logger: logger, readiness: readiness).run()
