// palisade-vks-sync: key status and revocations from the validating key server (keys.openpgp.org by
// default), merged into the stored keys on a schedule. See README.md, "VKS sync worker".
import Core
import DNS
import HTTPFetch
import HTTPService
import Hummingbird
import KeyDiscovery
import VKSSync

let (configuration, logger) = await ServiceCommandLine.start(
    program: "palisade-vks-sync", settings: VKSSyncSettings.all + KeyDiscoverySettings.all + DNSSettings.all + HTTPFetchSettings.all)
let database = PostgresConfiguration(configuration, applicationName: "palisade-vks-sync")
let pool = PostgresPool(configuration: database, logger: logger)
defer { pool.close() }
let host = VKSSyncSettings.listenHost.read(configuration)
let port = VKSSyncSettings.listenPort.read(configuration)
let schedule = VKSRefresher.Schedule(configuration)
let scheduleInterval = VKSSyncSettings.scheduleInterval.read(configuration)
let requestsPerMinute = VKSSyncSettings.requestsPerMinute.read(configuration)
let workerOptions = JobWorker.Options(configuration, concurrency: VKSSyncSettings.workers.read(configuration))
let jobs = JobQueue(pool: pool, configuration)
let discovery = KeyDiscoveryConfiguration(configuration)
ServiceCommandLine.checked(configuration, program: "palisade-vks-sync")
let client: VKSClient
do {
    let resolver = try DNSResolver(configuration, logger: logger)
    client = VKSClient(fetcher: try HTTPFetcher(configuration, resolver: resolver, logger: logger), configuration: discovery)
} catch {
    ServiceCommandLine.fail("palisade-vks-sync", "configuration error:\n\(error)")
}

let refresher = VKSRefresher(pool: pool, client: client, limiter: VKSRateLimiter(perMinute: requestsPerMinute), schedule: schedule, logger: logger)
let wakeups = JobWakeups(configuration: database, logger: logger)
let worker = JobWorker(queue: VKSRefreshJob.queue,
                       handlers: VKSSyncApplication.handlers(refresher, scheduleInterval: scheduleInterval, requestsPerMinute: requestsPerMinute, logger: logger),
                       jobs: jobs, wakeups: wakeups, options: workerOptions, logger: logger)
let scheduler = JobScheduler(schedules: [VKSScheduleJob.recurring(every: scheduleInterval)], pool: pool, logger: logger)
// /healthz (PostgreSQL answering) and /metrics; ready for systemd once the port is bound.
let router = Router(context: ServiceRequestContext.self)
router.add(middleware: MetricsMiddleware())
OperationalRoutes.add(to: router, healthy: OperationalRoutes.databaseCheck(pool))
let readiness = ServiceReadiness()
let listener = ServiceApplication.make(router, serverName: "palisade-vks-sync", host: host, port: port, logger: logger) { _ in readiness.markReady() }
try await PalisadeServiceGroup(services: [wakeups, worker, scheduler, listener], logger: logger, readiness: readiness).run()
