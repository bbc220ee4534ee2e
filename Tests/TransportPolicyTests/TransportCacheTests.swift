import Core
import CoreTestSupport
import Foundation
import MailPolicy
import ServiceLifecycle
import Synchronization
import Testing
@testable import TransportPolicy

/// RFC 8461 section 5's caching against the real world, and the cache every instance shares: PostgreSQL,
/// memory kept coherent by NOTIFY, refreshes as jobs off the look-up path.
@Suite("Transport policy cache")
struct TransportCacheTests {
    static let s = TransportWorld.secure

    static func policy(_ mode: MTASTSPolicy.Mode, _ mx: String, maxAge: Int = 86_400) throws -> MTASTSPolicy {
        MTASTSPolicy(mode: mode, mx: [try MXPattern(mx)], maxAge: maxAge)
    }

    static func cachedSTS(_ policy: MTASTSPolicy, id: String, fetched: Date, now: Date = Date()) -> MTASTSState {
        MTASTSState(policy: policy, policyID: id, fetchedAt: fetched, expiresAt: fetched.addingTimeInterval(TimeInterval(policy.maxAge)),
                    lastCheck: .policy, checkedAt: fetched, nextCheckAt: now.addingTimeInterval(3600))
    }

    @Test("A changed id fetches the policy again; the same id within the refetch interval does not")
    func changedID() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let checker = world.checker()
        let domain = try DomainName("sts-enforce.\(Self.s)")
        let now = Date()
        // What we pretend was cached: a testing policy, not what the host serves (enforce).
        let old = try Self.policy(.testing, "mx1.sts-enforce.\(Self.s)")
        let changed = await checker.checkSTS(domain, previous: Self.cachedSTS(old, id: "older1", fetched: now.addingTimeInterval(-60)), at: now)
        #expect(changed.policyID == "enforce1")
        #expect(changed.policy?.mode == .enforce)
        #expect(changed.fetchedAt == now)
        let same = await checker.checkSTS(domain, previous: Self.cachedSTS(old, id: "enforce1", fetched: now.addingTimeInterval(-60)), at: now)
        #expect(same.policy == old, "the same id is not fetched again")
        #expect(same.lastCheck == .policy)
        // Proactively: after the refetch interval (or half the max_age) the same id is fetched again.
        let due = await checker.checkSTS(domain, previous: Self.cachedSTS(old, id: "enforce1", fetched: now.addingTimeInterval(-50_000)), at: now)
        #expect(due.policy?.mode == .enforce)
        #expect(due.fetchedAt == now, "fetched again although the id is the same")
    }

    @Test("A failed fetch keeps the cached policy until it expires; then the answer is TEMP")
    func failedFetchKeepsPolicy() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let checker = world.checker()
        let domain = try DomainName("sts-unavailable.\(Self.s)")
        let now = Date()
        let cached = try Self.policy(.enforce, "mx.sts-unavailable.\(Self.s)")
        let kept = await checker.checkSTS(domain, previous: Self.cachedSTS(cached, id: "older1", fetched: now.addingTimeInterval(-3600)), at: now)
        #expect(kept.lastCheck == .fetchFailed)
        #expect(kept.policy == cached)
        #expect(kept.detail?.contains("HTTP 503") == true)
        let dane = await checker.checkDANE(domain, previous: nil, at: now)
        let answer = TransportDecision.decide(TransportPolicyEntry(domain: domain.ascii, sts: kept, dane: dane),
                                              profile: TransportProfile(name: "postfix"), options: .init(), at: now)
        #expect(answer.reply.text == "OK secure match=mx.sts-unavailable.\(Self.s) servername=hostname")

        // Expired: fetched 2 days ago with a max_age of one day. The policy no longer counts; what decides
        // is the unfetchable policy (TEMP by default, no policy with RFC 8461's own fallback).
        let expired = await checker.checkSTS(domain, previous: Self.cachedSTS(cached, id: "older1", fetched: now.addingTimeInterval(-172_800)), at: now)
        #expect(expired.policy(at: now) == nil)
        let entry = TransportPolicyEntry(domain: domain.ascii, sts: expired, dane: dane)
        let late = TransportDecision.decide(entry, profile: TransportProfile(name: "postfix"), options: .init(), at: now)
        #expect(late.kind == .temporary && late.reason.contains("cannot be fetched"), "\(late.reason)")
        let rfc = TransportDecision.decide(entry, profile: TransportProfile(name: "postfix"), options: .init(deferWhenPolicyUnavailable: false), at: now)
        #expect(rfc.reply == .notFound)
    }

    @Test("A record that disappeared leaves the cached policy in force until it expires")
    func recordRemoved() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let checker = world.checker()
        // dane-pkix has no _mta-sts record (and no usable TLSA).
        let domain = try DomainName("dane-pkix.\(Self.s)")
        let now = Date()
        let cached = try Self.policy(.enforce, "mx.dane-pkix.\(Self.s)")
        let entry = await checker.check(domain, previous: TransportPolicyEntry(
            domain: domain.ascii, sts: Self.cachedSTS(cached, id: "gone1", fetched: now.addingTimeInterval(-60)),
            dane: DANEState(result: .failed("x"), checkedAt: now, validUntil: now, nextCheckAt: now)), at: now)
        #expect(entry.sts.lastCheck == .none)
        #expect(entry.sts.nextCheckAt == now.addingTimeInterval(3600), "the record is looked at again after recordCheckInterval")
        let answer = TransportDecision.decide(entry, profile: TransportProfile(name: "postfix"), options: .init(), at: now)
        #expect(answer.reply.text == "OK secure match=mx.dane-pkix.\(Self.s) servername=hostname")
    }

    @Test("DNS failing: a DANE result is kept through the grace period, a result without DANE is not")
    func daneFailureGrace() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let checker = world.checker()
        let domain = try DomainName("dead.palisade.example")
        let now = Date()
        let dane = DANEResult(status: .daneOnly, mxHosts: ["mx.dead.palisade.example"], mxSecure: true, daneHosts: ["mx.dead.palisade.example"], reason: "", ttl: 300)
        let kept = await checker.checkDANE(domain, previous: DANEState(result: dane, checkedAt: now.addingTimeInterval(-400),
                                                                        validUntil: now.addingTimeInterval(-100), nextCheckAt: now.addingTimeInterval(-100)), at: now)
        #expect(kept.result.status == .daneOnly)
        #expect(kept.lastError?.contains("timed out") == true)
        #expect(kept.nextCheckAt > now)
        let none = DANEResult(status: .none, mxHosts: ["mx.dead.palisade.example"], mxSecure: false, daneHosts: [], reason: "", ttl: 300)
        let replaced = await checker.checkDANE(domain, previous: DANEState(result: none, checkedAt: now.addingTimeInterval(-400),
                                                                            validUntil: now.addingTimeInterval(-100), nextCheckAt: now.addingTimeInterval(-100)), at: now)
        #expect(replaced.result.status == .failed)
        // Past the grace period the DANE result goes too.
        let tooLate = await checker.checkDANE(domain, previous: DANEState(result: dane, checkedAt: now.addingTimeInterval(-8000),
                                                                           validUntil: now.addingTimeInterval(-7300), nextCheckAt: now.addingTimeInterval(-7300)), at: now)
        #expect(tooLate.result.status == .failed)
    }

    @Test("One cache for every instance: a second instance answers from PostgreSQL without the network")
    func sharedCache() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let first = world.policyResolver()
        let request = Socketmap.Request(name: "postfix", key: "sts-enforce.\(Self.s)")
        let answer = await first.answer(request)
        #expect(answer.kind == .stsEnforce)
        #expect(try await world.db.count("SELECT count(*) FROM transport_policies WHERE domain = 'sts-enforce.\(Self.s)'") == 1)
        let second = world.policyResolver(checker: try world.deadChecker())
        #expect(second.immediateAnswer(request) == nil, "the second instance's memory is empty")
        #expect(await second.answer(request) == answer)
    }

    @Test("A change in PostgreSQL reaches another instance's memory through NOTIFY")
    func notifyKeepsMemoryCoherent() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let request = Socketmap.Request(name: "postfix", key: "sts-enforce.\(Self.s)")
        let writer = world.policyResolver()
        #expect(await writer.answer(request).kind == .stsEnforce)
        let cache = TransportPolicyCache(capacity: 100)
        let reader = world.policyResolver(cache: cache, checker: try world.deadChecker())
        #expect(await reader.answer(request).kind == .stsEnforce)
        let entry = try #require(cache.entry("sts-enforce.\(Self.s)"))
        var sts = entry.sts
        sts.policy = try Self.policy(.testing, "mx1.sts-enforce.\(Self.s)")
        let sync = TransportCacheSync(cache: cache, pool: world.pool, listening: PostgresConfiguration(conninfo: world.db.url), logger: world.db.logger)
        let group = ServiceGroup(services: [sync], logger: world.db.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Once listening (the sync empties memory when it starts), bring the entry back, then change it.
            try await world.db.eventually("the sync listens") { cache.count == 0 }
            #expect(await reader.answer(request).kind == .stsEnforce)
            try await TransportPolicyStore(pool: world.pool).save(sts: sts, for: entry.domain)
            try await world.db.eventually("the change reaches the reader's memory") { cache.entry(entry.domain)?.sts.policy?.mode == .testing }
            #expect(reader.immediateAnswer(request)?.reply == .notFound)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("A due entry is answered at once as it is, and refreshed by a job: not on the look-up path")
    func refreshAsJobs() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let domain = "sts-enforce.\(Self.s)"
        let request = Socketmap.Request(name: "postfix", key: domain)
        let now = Date()
        // Cached: a testing policy under an old id, due for its record check; DANE fresh.
        let checker = world.checker()
        let dane = await checker.checkDANE(try DomainName(domain), previous: nil, at: now)
        var sts = Self.cachedSTS(try Self.policy(.testing, "mx1.\(domain)"), id: "older1", fetched: now.addingTimeInterval(-600))
        sts.nextCheckAt = now.addingTimeInterval(-1)
        try await TransportPolicyStore(pool: world.pool).save(TransportPolicyEntry(domain: domain, sts: sts, dane: dane))

        // An instance that cannot reach the network still answers from the cached entry, and asks for a refresh.
        let cache = TransportPolicyCache(capacity: 100)
        let resolver = world.policyResolver(cache: cache, checker: try world.deadChecker())
        #expect(await resolver.answer(request).reply == .notFound)
        try await world.db.eventually("a refresh job is queued") {
            try await world.db.count("SELECT count(*) FROM jobs WHERE kind = 'mta-sts.refresh' AND payload->>'domain' = '\(domain)'") == 1
        }
        #expect(try await world.db.count("SELECT count(*) FROM jobs WHERE kind = 'dane.refresh'") == 0, "DANE is not due")

        // A worker (another instance, with the network) runs it; the NOTIFY updates the first one's memory.
        let worker = JobWorker(queue: TransportRefreshJob.queue, handlers: TransportRefreshJob.handlers(checker: checker, pool: world.pool, logger: world.db.logger),
                               jobs: JobQueue(pool: world.pool), wakeups: nil, options: .init(concurrency: 2, pollInterval: .milliseconds(100)), logger: world.db.logger)
        let sync = TransportCacheSync(cache: cache, pool: world.pool, listening: PostgresConfiguration(conninfo: world.db.url), logger: world.db.logger)
        try await world.db.run([worker, sync], until: "the refreshed policy is answered") {
            _ = await resolver.answer(request)
            return resolver.immediateAnswer(request)?.kind == .stsEnforce
        }
        let stored = try #require(try await TransportPolicyStore(pool: world.pool).load(domain))
        #expect(stored.sts.policyID == "enforce1")
    }

    @Test("A policy with max_age 0 still counts for the answer it was fetched for")
    func maxAgeZero() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let answer = await world.policyResolver().answer(Socketmap.Request(name: "postfix", key: "sts-maxage0.\(Self.s)"))
        #expect(answer.reply.text == "OK secure match=mx.sts-maxage0.\(Self.s) servername=hostname", "\(answer.reason)")
    }

    @Test("An entry nobody looked up for a while is checked again on the look-up path, with its cached policy carried forward")
    func staleEntryRechecked() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let domain = "sts-unavailable.\(Self.s)"
        let now = Date()
        // Stored three hours ago: both halves long past their refresh and the stale limit; the policy
        // (max_age one day) still valid. The policy host now answers 503.
        let checker = world.checker()
        var dane = await checker.checkDANE(try DomainName(domain), previous: nil, at: now.addingTimeInterval(-10_800))
        dane.validUntil = now.addingTimeInterval(-10_000)
        dane.nextCheckAt = dane.validUntil
        var sts = Self.cachedSTS(try Self.policy(.enforce, "mx.\(domain)"), id: "older1", fetched: now.addingTimeInterval(-10_800))
        sts.nextCheckAt = now.addingTimeInterval(-7_200)
        let stored = TransportPolicyEntry(domain: domain, sts: sts, dane: dane)
        try await TransportPolicyStore(pool: world.pool).save(stored)
        #expect(stored.isStale(at: now, staleLimit: 3600))

        let resolver = world.policyResolver()
        let request = Socketmap.Request(name: "postfix", key: domain)
        let answer = await resolver.answer(request)
        #expect(answer.reply.text == "OK secure match=mx.\(domain) servername=hostname", "\(answer.reason)")
        let rechecked = try #require(try await TransportPolicyStore(pool: world.pool).load(domain))
        #expect(rechecked.sts.lastCheck == .fetchFailed)
        #expect(rechecked.sts.policy == sts.policy, "the failed fetch kept the cached policy")
        #expect(rechecked.sts.checkedAt > now.addingTimeInterval(-60))
        #expect(resolver.immediateAnswer(request) == answer, "fresh again: answered from memory")
    }

    @Test("A memoised answer is not used past the moment the decision changes")
    func memoEndsWhenDecisionChanges() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let domain = "sts-enforce.\(Self.s)"
        let start = Date()
        let clock = Clock(start)
        let resolver = world.policyResolver(now: { clock.now })
        let request = Socketmap.Request(name: "postfix", key: domain)
        #expect(await resolver.answer(request).kind == .stsEnforce)
        let entry = try #require(resolver.cache.entry(domain))
        let changes = TransportDecision.changesAt(entry, options: .init())
        clock.now = changes.addingTimeInterval(-1)
        #expect(resolver.immediateAnswer(request)?.kind == .stsEnforce)
        clock.now = changes.addingTimeInterval(1)
        #expect(resolver.immediateAnswer(request) == nil, "past the change the entry is stale: checked again, not answered from the memo")
    }

    @Test("A failed read of the shared cache never overwrites it: the check is kept in memory only")
    func failedReadLeavesStoreAlone() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let domain = "sts-unavailable.\(Self.s)"
        let now = Date()
        let policy = try Self.policy(.enforce, "mx.\(domain)")
        let dane = await world.checker().checkDANE(try DomainName(domain), previous: nil, at: now)
        try await TransportPolicyStore(pool: world.pool).save(TransportPolicyEntry(domain: domain, sts: Self.cachedSTS(policy, id: "older1", fetched: now), dane: dane))
        // palisade_wkd may not read transport_policies: every read fails.
        let unreadable = world.db.pool(as: "palisade_wkd", maxConnections: 2)
        defer { unreadable.close() }
        let resolver = TransportPolicyResolver(profiles: TransportWorld.profiles, checker: world.checker(), pool: unreadable,
                                               cache: TransportPolicyCache(capacity: 10), options: .init(), logger: world.db.logger)
        let answer = await resolver.answer(Socketmap.Request(name: "postfix", key: domain))
        #expect(answer.kind == .temporary, "without the stored policy the unfetchable one defers: \(answer.reason)")
        let stored = try #require(try await TransportPolicyStore(pool: world.pool).load(domain))
        #expect(stored.sts.policy == policy && stored.sts.policyID == "older1", "the stored policy is untouched")
    }

    @Test("The sweep queues due refreshes of domains in use; pruning keeps unexpired policies; usage is recorded")
    func sweepPruneAndUsage() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        let store = TransportPolicyStore(pool: world.pool)
        let now = Date()
        let past = now.addingTimeInterval(-60), future = now.addingTimeInterval(3600)
        func entry(_ domain: String, stsDue: Bool, daneDue: Bool, policy: Bool) throws -> TransportPolicyEntry {
            let sts = MTASTSState(policy: policy ? try Self.policy(.enforce, "mx.\(domain)") : nil, policyID: policy ? "a" : nil,
                                  fetchedAt: policy ? now : nil, expiresAt: policy ? now.addingTimeInterval(86_400) : nil,
                                  lastCheck: policy ? .policy : .none, checkedAt: now, nextCheckAt: stsDue ? past : future)
            let dane = DANEState(result: DANEResult(status: .none, mxHosts: ["mx.\(domain)"], mxSecure: false, daneHosts: [], reason: "", ttl: 300),
                                 checkedAt: now, validUntil: daneDue ? past : future, nextCheckAt: daneDue ? past : future)
            return TransportPolicyEntry(domain: domain, sts: sts, dane: dane)
        }
        try await store.save(entry("both.example", stsDue: true, daneDue: true, policy: false))
        try await store.save(entry("dane.example", stsDue: false, daneDue: true, policy: true))
        try await store.save(entry("fresh.example", stsDue: false, daneDue: false, policy: false))
        try await store.save(entry("idle.example", stsDue: true, daneDue: true, policy: false))
        try await store.save(entry("idle-policy.example", stsDue: true, daneDue: true, policy: true))
        try await world.db.pool.query("UPDATE transport_policies SET used_at = now() - interval '40 days' WHERE domain LIKE 'idle%'")

        let handler = TransportSweepJob.handler(pool: world.pool, window: .seconds(86_400), logger: world.db.logger)
        _ = try await JobQueue(pool: world.pool).enqueue(NewJob(kind: TransportSweepJob.kind, queue: TransportRefreshJob.queue))
        let jobs = try await JobQueue(pool: world.pool).claim(queue: TransportRefreshJob.queue, kinds: [TransportSweepJob.kind], limit: 1, owner: "test", lease: .seconds(60))
        try await handler(try #require(jobs.first))
        let queued: [String] = try await world.db.pool.query("""
            SELECT kind || ' ' || (payload->>'domain') AS job FROM jobs WHERE kind IN ('mta-sts.refresh', 'dane.refresh') ORDER BY 1
            """).map { try $0.decode("job") }
        #expect(queued == ["dane.refresh both.example", "dane.refresh dane.example", "mta-sts.refresh both.example"])

        #expect(try await store.pruneUnused(olderThan: .seconds(35 * 86_400)) == 1)
        #expect(try await store.load("idle.example") == nil)
        #expect(try await store.load("idle-policy.example") != nil, "its policy has not expired")

        let cache = TransportPolicyCache(capacity: 10)
        cache.store(try entry("idle-policy.example", stsDue: false, daneDue: false, policy: true))
        await TransportUsageRecorder(cache: cache, pool: world.pool, logger: world.db.logger).record()
        #expect(try await world.db.count("SELECT count(*) FROM transport_policies WHERE domain = 'idle-policy.example' AND used_at > now() - interval '1 minute'") == 1)
        #expect(cache.takeUsed().isEmpty, "recorded once")
    }
}

/// A clock the test moves.
final class Clock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    var now: Date {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}
