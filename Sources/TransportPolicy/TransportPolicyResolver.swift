import Core
import Foundation
import Logging
import MailPolicy
import Metrics
import Synchronization

/// Answers Postfix's TLS policy look-ups: a profile by map name, the domain's entry from memory, else
/// from PostgreSQL, else checked on the network once however many look-ups wait for it (and stored for
/// every instance). A due entry is answered as it is and its refresh queued as jobs: network work never
/// sits on the path of a look-up that has an entry.
public final class TransportPolicyResolver: Sendable {
    public let profiles: [String: TransportProfile]
    let checker: TransportPolicyChecker
    let store: TransportPolicyStore
    public let cache: TransportPolicyCache
    let jobs: JobQueue
    let options: TransportDecision.Options
    let logger: Logger
    let now: @Sendable () -> Date
    /// One check per domain in this process, however many look-ups wait for it.
    let flights = SingleFlight<TransportPolicyEntry>()

    public init(profiles: [String: TransportProfile], checker: TransportPolicyChecker, pool: PostgresPool, cache: TransportPolicyCache,
                options: TransportDecision.Options, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.profiles = profiles
        self.checker = checker
        store = TransportPolicyStore(pool: pool)
        self.cache = cache
        jobs = JobQueue(pool: pool)
        self.options = options
        self.logger = logger
        self.now = now
    }

    /// The answer if it needs neither PostgreSQL nor the network (the socketmap listener gives it
    /// without leaving its event loop); nil otherwise.
    public func immediateAnswer(_ request: Socketmap.Request) -> TransportAnswer? {
        guard let profile = profiles[request.name] else { return unknownMap(request.name) }
        // Postfix asks in lower case already: only another client's key needs lowering (an allocation).
        let key = request.key.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 }) ? request.key.lowercased() : request.key
        let time = now()
        switch cache.answer(key, profile: profile.name, at: time, decide: { entry in
            (TransportDecision.decide(entry, profile: profile, options: options, at: time), TransportDecision.changesAt(entry, options: options))
        }) {
        case .settled(let answer):
            return TransportMetrics.answered(answer, cached: true)
        case .unsettled(let answer, let entry):
            // Too old to answer from (not used for a while): checked again on the look-up path.
            if entry.isStale(at: time, staleLimit: options.staleLimit.inSeconds) { return nil }
            requestRefreshIfDue(entry, at: time)
            return TransportMetrics.answered(answer, cached: true)
        case nil:
            break
        }
        if case .other(let why) = TransportKey(key) {
            return TransportMetrics.answered(TransportAnswer(kind: .notADomain, reply: .notFound, reason: "\(request.key.prefix(80)) is \(why)"), cached: true)
        }
        return nil
    }

    public func answer(_ request: Socketmap.Request) async -> TransportAnswer {
        if let answer = immediateAnswer(request) { return answer }
        guard let profile = profiles[request.name] else { return unknownMap(request.name) }
        guard case .domain(let domain) = TransportKey(request.key) else {
            return TransportAnswer(kind: .notADomain, reply: .notFound, reason: "not a domain")
        }
        if let entry = cache.entry(domain.ascii), !entry.isStale(at: now(), staleLimit: options.staleLimit.inSeconds) {
            return decide(entry, profile: profile, cached: true)
        }
        let entry = await flights.join(domain.ascii) { await self.fetchEntry(domain) }
        return decide(entry, profile: profile, cached: false)
    }

    /// The domain's entry: from memory or PostgreSQL if it is not stale, else checked now (with the old
    /// entry as the previous state, so a cached policy survives a failed check) and stored.
    func fetchEntry(_ domain: DomainName) async -> TransportPolicyEntry {
        let staleLimit = options.staleLimit.inSeconds
        var previous = cache.entry(domain.ascii)
        if previous == nil || previous!.isStale(at: now(), staleLimit: staleLimit) {
            do {
                if let stored = try await store.load(domain.ascii) { previous = stored }
            } catch {
                // Without the shared state a check could not carry a cached policy forward: what it finds
                // is kept in this instance's memory only, never written over the stored entry.
                logger.warning("reading the transport policy cache failed", metadata: ["domain": "\(domain)", "error": "\(error)"])
                let entry = await check(domain, previous: previous)
                cache.store(entry)
                return entry
            }
        }
        if let previous, !previous.isStale(at: now(), staleLimit: staleLimit) {
            cache.store(previous)
            return previous
        }
        let entry = await check(domain, previous: previous)
        do {
            try await store.save(entry)
        } catch {
            logger.warning("storing a transport policy failed", metadata: ["domain": "\(domain)", "error": "\(error)"])
        }
        cache.store(entry)
        return entry
    }

    func check(_ domain: DomainName, previous: TransportPolicyEntry?) async -> TransportPolicyEntry {
        let entry = await checker.check(domain, previous: previous, at: now())
        TransportMetrics.checked(entry)
        logger.info("transport policy checked", metadata: [
            "domain": "\(domain)", "dane": "\(entry.dane.result.status.rawValue)", "mta_sts": "\(entry.sts.lastCheck.rawValue)",
            "mta_sts.mode": "\(entry.sts.policy?.mode.rawValue ?? "-")", "previous": "\(previous != nil)",
        ])
        return entry
    }

    func decide(_ entry: TransportPolicyEntry, profile: TransportProfile, cached: Bool) -> TransportAnswer {
        let time = now()
        requestRefreshIfDue(entry, at: time)
        return TransportMetrics.answered(TransportDecision.decide(entry, profile: profile, options: options, at: time), cached: cached)
    }

    /// Queues `mta-sts.refresh` / `dane.refresh` for the halves that are due, at most once a minute per
    /// domain from this instance (the jobs' unique keys fold the requests of all instances into one).
    func requestRefreshIfDue(_ entry: TransportPolicyEntry, at time: Date) {
        let due = entry.isDue(at: time)
        guard due.sts || due.dane, cache.claimRefresh(entry.domain, at: time, interval: 60) else { return }
        let domain = entry.domain
        Task {
            var kinds: [NewJob] = []
            if due.sts { kinds.append(TransportRefreshJob.make(.mtaSts, domain: domain)) }
            if due.dane { kinds.append(TransportRefreshJob.make(.dane, domain: domain)) }
            do {
                _ = try await jobs.enqueue(batch: kinds)
            } catch {
                logger.warning("queueing a transport policy refresh failed", metadata: ["domain": "\(domain)", "error": "\(error)"])
            }
        }
    }

    func unknownMap(_ name: String) -> TransportAnswer {
        let known = profiles.keys.sorted().joined(separator: ", ")
        return TransportMetrics.answered(TransportAnswer(kind: .refused, reply: .perm("unknown map name \"\(name.prefix(64))\" (this daemon answers: \(known))"),
                                                         reason: "unknown map name"), cached: true)
    }
}
