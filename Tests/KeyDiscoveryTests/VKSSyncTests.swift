import Aliases
import Core
import CoreTestSupport
import Foundation
import KeyDiscovery
import Keystore
import OpenPGP
import ServiceLifecycle
import Testing
import VKSSync
import WKDPublishing

/// The VKS sync worker against the test VKS: what a key server's copy may change in our keys, and what
/// it may not.
@Suite("VKS sync")
struct VKSSyncTests {
    /// A stored key of an account, bound to its address, and the gpg home that made it.
    struct Setup {
        let world: DiscoveryWorld
        let vksPool: PostgresPool
        let address: String
        let account: Int64
        let fingerprint: Fingerprint
        let stored: [UInt8]
        let home: GnuPGHome

        /// Stops gpg's agent and removes the home, closes the pools.
        func close() async {
            await home.remove()
            vksPool.close()
            world.close()
        }

        func refresher(_ configuration: KeyDiscoveryConfiguration? = nil) -> VKSRefresher {
            VKSRefresher(pool: vksPool, client: VKSClient(fetcher: world.fetcher, configuration: configuration ?? world.configuration()),
                         limiter: VKSRateLimiter(perMinute: 6_000),
                         schedule: .init(interval: .seconds(86_400), recentInterval: .seconds(3_600), recentUse: .seconds(86_400)),
                         logger: world.db.logger)
        }

        /// The key as gpg holds it now (after whatever the test did to it there).
        func exported() async throws -> [UInt8] {
            let armored = try await home.gpg(["--armor", "--export", fingerprint.hex])
            return try #require(try Armor.decode(Array(armored.utf8)).first).data
        }

        /// gpg's revocation certificate made with the key (openpgp-revocs.d), as a signature packet.
        func revocation() throws -> [UInt8] {
            let file = home.home.appendingPathComponent("openpgp-revocs.d/\(fingerprint.hex).rev")
            // gpg puts a ":" before the armor so that the file is not imported by accident.
            let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: ":-----BEGIN", with: "-----BEGIN")
            return try #require(try Armor.decode(Array(text.utf8)).first).data
        }

        var storedCertificate: (bytes: [UInt8], status: String) {
            get async throws {
                let row = try #require(try await world.db.pool.query("SELECT certificate, status FROM keys WHERE fingerprint = \(fingerprint.hex)").first)
                return (try row.decode("certificate"), try row.decode("status"))
            }
        }

        var check: (found: Bool?, checked: Bool, error: String?)? {
            get async throws {
                try await world.db.pool.query("""
                    SELECT found, checked_at IS NOT NULL AS checked, last_error FROM key_vks_checks WHERE fingerprint = \(fingerprint.hex)
                    """).first.map { (try $0.decodeIfPresent("found"), try $0.decode("checked"), try $0.decodeIfPresent("last_error")) }
            }
        }

        func pendingWKDJobs() async throws -> Int {
            try await world.db.count("SELECT count(*) FROM jobs WHERE kind = 'wkd.refresh' AND payload->>'address' = '\(address)'")
        }
    }

    /// Runs `body` with a new setup, which is closed (its gpg home and agent gone) whatever `body` does.
    static func withSetup(_ body: (Setup) async throws -> Void) async throws {
        let setup = try await Self.setup()
        do {
            try await body(setup)
        } catch {
            await setup.close()
            throw error
        }
        await setup.close()
    }

    static func setup() async throws -> Setup {
        let world = try await DiscoveryWorld.make()
        let address = "\(DiscoveryWorld.unique("v"))@\(DiscoveryWorld.ownDomain)"
        let aliases = AliasDirectory(pool: world.db.pool, rules: AddressRules(), logger: world.db.logger)
        let account = try await aliases.createAccount(primary: address, by: AliasDirectory.Actor(name: "test")).id
        let home = try GnuPGHome()
        let hex = try await home.generate(address, passphrase: "")
        let armored = try await home.gpg(["--armor", "--export", hex])
        let key = try #require(try Armor.decode(Array(armored.utf8)).first).data
        let keystore = AccountKeystore(pool: world.servicePool, logger: world.db.logger)
        _ = try await keystore.importCertificates(key, for: account, by: "test")
        try await keystore.bind(address, to: hex, of: account, by: "test")
        let fingerprint = try Fingerprint(hex)
        let stored: [UInt8] = try #require(try await world.db.pool.query("SELECT certificate FROM keys WHERE fingerprint = \(hex)").first).decode("certificate")
        // The import's own jobs are not what these tests look for.
        try await world.db.pool.query("DELETE FROM jobs")
        return Setup(world: world, vksPool: world.db.pool(as: "palisade_vks", maxConnections: 2), address: address, account: account,
                     fingerprint: fingerprint, stored: stored, home: home)
    }

    /// The certificate without its User IDs, as the VKS serves a key whose owner verified no address.
    static func withoutIdentities(_ certificate: [UInt8]) throws -> [UInt8] {
        let parsed = try #require(try Certificate.parse(certificate).first)
        return parsed.validated(at: UInt32(Date().timeIntervalSince1970)).packets(userIDs: []).flatMap(\.serialized)
    }

    /// `packet` placed right after the primary key packet of `certificate`.
    static func inserting(_ packet: [UInt8], into certificate: [UInt8]) throws -> [UInt8] {
        let packets = try PacketReader.packets(certificate)
        return packets[0].serialized + packet + packets.dropFirst().flatMap(\.serialized)
    }

    @Test("A revocation published at the VKS, in a copy without User IDs, reaches the key's status and its WKD entry")
    func revocationArrives() async throws {
        try await Self.withSetup { setup in
            let revoked = try Self.inserting(try setup.revocation(), into: setup.stored)
            try setup.world.vks.publish(try Self.withoutIdentities(revoked), verified: [])

            let outcome = try await setup.refresher().refresh(setup.fingerprint)
            #expect(outcome == .found(changed: true, status: "revoked", previousStatus: "valid"))
            let stored = try await setup.storedCertificate
            #expect(stored.status == "revoked")
            // The User ID the copy lacked is still ours.
            #expect(try Certificate.parse(stored.bytes).first?.userIDs.map(\.text) == ["Test <\(setup.address)>"])
            #expect(try await setup.check?.found == true)
            // In the same transaction: the bound address's WKD entry is recomputed, and serves the revocation.
            #expect(try await setup.pendingWKDJobs() == 1)
            let wkd = setup.world.db.pool(as: "palisade_wkd", maxConnections: 1)
            defer { wkd.close() }
            _ = try await WKDPublication(pool: wkd, logger: setup.world.db.logger).refresh(setup.address)
            let body: [UInt8] = try #require(try await setup.world.db.pool.query("SELECT body FROM wkd_entries WHERE address = \(setup.address)").first)
                .decode("body")
            let served = try #require(try Certificate.parse(body).first).validated(at: UInt32(Date().timeIntervalSince1970))
            guard case .revoked = served.status(at: UInt32(Date().timeIntervalSince1970)) else {
                Issue.record("the WKD entry does not carry the revocation")
                return
            }
        }
    }

    @Test("A forged revocation and a User ID we were never given are not taken; nothing changes")
    func forgeriesIgnored() async throws {
        try await Self.withSetup { setup in
            // A revocation whose signature does not verify (its last byte changed).
            var forged = try #require(try PacketReader.packets(try setup.revocation()).first).serialized
            forged[forged.count - 1] ^= 0x01
            // And a User ID added at gpg, with a valid self-signature: an identity we never received.
            _ = try await setup.home.gpg(["--quick-add-uid", setup.fingerprint.hex, "Extra <extra@elsewhere.example>"])
            let copy = try Self.inserting(forged, into: try await setup.exported())
            try setup.world.vks.publish(copy, verified: ["extra@elsewhere.example"])

            let outcome = try await setup.refresher().refresh(setup.fingerprint)
            #expect(outcome == .found(changed: false, status: "valid", previousStatus: "valid"))
            let stored = try await setup.storedCertificate
            #expect(stored.bytes == setup.stored && stored.status == "valid")
            #expect(try await setup.pendingWKDJobs() == 0)
        }
    }

    @Test("A newer expiry and a new subkey published at the VKS are taken; a subkey bound by another key is not")
    func newExpiryAndSubkey() async throws {
        try await Self.withSetup { setup in
            // At gpg: the key now expires in two years, and has a new signing subkey.
            _ = try await setup.home.gpg(["--quick-set-expire", setup.fingerprint.hex, "2y"])
            _ = try await setup.home.gpg(["--quick-add-key", setup.fingerprint.hex, "ed25519", "sign", "1y"])
            // And a subkey of another key, with that key's binding signature, spliced in: a forged binding for ours.
            let other = try await setup.home.generate("\(DiscoveryWorld.unique("f"))@elsewhere.example", passphrase: "")
            let otherKey = try #require(try Armor.decode(Array(try await setup.home.gpg(["--armor", "--export", other]).utf8)).first).data
            let otherPackets = try PacketReader.packets(otherKey)
            let subkeyAt = try #require(otherPackets.firstIndex { $0.tag == .publicSubkey })
            let forged = otherPackets[subkeyAt...].prefix(2).flatMap(\.serialized)
            try setup.world.vks.publish(try await setup.exported() + forged, verified: [])

            let outcome = try await setup.refresher().refresh(setup.fingerprint)
            #expect(outcome == .found(changed: true, status: "valid", previousStatus: "valid"))
            let stored = try await setup.storedCertificate
            let valid = try #require(try Certificate.parse(stored.bytes).first).validated(at: UInt32(Date().timeIntervalSince1970))
            #expect(valid.expirationTime != nil)
            #expect(valid.subkeys.count == 2)
            let foreign = try #require(try Certificate.parse(otherKey).first?.subkeys.first).key.fingerprint
            #expect(!valid.subkeys.contains { $0.fingerprint == foreign })
            #expect(try await setup.world.db.count("SELECT count(*) FROM keys WHERE expires_at IS NOT NULL AND cardinality(subkey_fingerprints) = 2") == 1)
            #expect(try await setup.pendingWKDJobs() == 1)
        }
    }

    @Test("A VKS that answers too late is an outage: the refresh fails at the timeout and changes nothing")
    func slowAnswer() async throws {
        try await Self.withSetup { setup in
            try setup.world.vks.publish(try Self.inserting(try setup.revocation(), into: setup.stored), verified: [])
            let path = "/vks/v1/by-fingerprint/\(setup.fingerprint.hex)"
            setup.world.vks.slow(path, by: .seconds(5))
            defer { setup.world.vks.slow(path, by: nil) }
            var impatient = setup.world.configuration()
            impatient.timeout = .seconds(1)
            await #expect(throws: VKSRefreshFailure.self) { try await setup.refresher(impatient).refresh(setup.fingerprint) }
            let stored = try await setup.storedCertificate
            #expect(stored.bytes == setup.stored && stored.status == "valid")
            #expect(try await setup.check?.error != nil)
        }
    }

    @Test("A 404 means unknown to the VKS, not revoked; an outage and a 5xx change nothing but the record of the attempt")
    func unknownAndOutage() async throws {
        try await Self.withSetup { setup in
            setup.world.vks.withdraw(setup.fingerprint.hex)
            #expect(try await setup.refresher().refresh(setup.fingerprint) == .unknown)
            #expect(try await setup.storedCertificate.status == "valid")
            let unknown = try await setup.check
            #expect(unknown?.found == false && unknown?.checked == true && unknown?.error == nil)

            // The VKS answering 503, then not reachable at all.
            let path = "/vks/v1/by-fingerprint/\(setup.fingerprint.hex)"
            setup.world.vks.fail(path, status: 503)
            defer { setup.world.vks.fail(path, status: nil) }
            await #expect(throws: VKSRefreshFailure.self) { try await setup.refresher().refresh(setup.fingerprint) }
            var unreachable = setup.world.configuration()
            unreachable.vksURL = URL(string: "https://nowhere.secure.palisade.example:\(setup.world.world.httpsPort)")!
            await #expect(throws: VKSRefreshFailure.self) { try await setup.refresher(unreachable).refresh(setup.fingerprint) }
            let stored = try await setup.storedCertificate
            #expect(stored.bytes == setup.stored && stored.status == "valid")
            let failed = try await setup.check
            #expect(failed?.found == false && failed?.error != nil)
            #expect(try await setup.pendingWKDJobs() == 0)
        }
    }

    @Test("A 429 with Retry-After postpones the job to that time without spending an attempt")
    func retryAfter() async throws {
        try await Self.withSetup { setup in
            setup.world.vks.limit("/vks/v1/by-fingerprint/\(setup.fingerprint.hex)", retryAfter: 600)
            let refresher = setup.refresher()
            let jobs = JobQueue(pool: setup.vksPool)
            guard case .enqueued(let id) = try await jobs.enqueue(try VKSRefreshJob.make(fingerprint: setup.fingerprint)) else {
                Issue.record("not enqueued")
                return
            }
            let worker = JobWorker(queue: VKSRefreshJob.queue,
                                   handlers: VKSSyncApplication.handlers(refresher, scheduleInterval: .seconds(60), requestsPerMinute: 60,
                                                                         logger: setup.world.db.logger),
                                   jobs: jobs, wakeups: nil, options: .init(concurrency: 1, batchSize: 1, pollInterval: .milliseconds(50)),
                                   logger: setup.world.db.logger)
            try await setup.world.db.run([worker], until: "the job is postponed") {
                try await setup.world.db.count("""
                    SELECT count(*) FROM jobs WHERE id = \(id) AND state = 'ready' AND attempts = 0 AND run_at > now() + interval '500 seconds'
                    """) == 1
            }
            #expect(try await setup.storedCertificate.status == "valid")
        }
    }

    @Test("The schedule queues due keys, never checked first, no more than the rate allows per run, spread over the interval")
    func schedule() async throws {
        try await Self.withSetup { setup in
            // Two more keys in the same account.
            for _ in 0..<2 {
                let other = try await setup.home.generate("\(DiscoveryWorld.unique("o"))@elsewhere.example", passphrase: "")
                let armored = try await setup.home.gpg(["--armor", "--export", other])
                _ = try await AccountKeystore(pool: setup.world.servicePool, logger: setup.world.db.logger)
                    .importCertificates(try #require(try Armor.decode(Array(armored.utf8)).first).data, for: setup.account, by: "test")
            }
            try await setup.world.db.pool.query("DELETE FROM jobs")
            // The first key was checked a day ago and is due again; the two others were never checked.
            try await setup.world.db.pool.query("""
                INSERT INTO key_vks_checks (fingerprint, found, checked_at, attempted_at, next_check_at)
                VALUES (\(setup.fingerprint.hex), true, now() - interval '1 day', now() - interval '1 day', now() - interval '1 hour')
                """)
            let logger = setup.world.db.logger
            // One minute at two a minute: two keys this run (the never-checked ones first), the third the next.
            #expect(try await VKSScheduleJob.queueDue(pool: setup.vksPool, interval: .seconds(60), requestsPerMinute: 2, logger: logger) == 2)
            #expect(try await setup.world.db.count("""
                SELECT count(*) FROM jobs WHERE kind = 'vks.refresh' AND run_at >= created_at AND run_at < created_at + interval '61 seconds'
                AND payload->>'fingerprint' <> '\(setup.fingerprint.hex)'
                """) == 2)
            #expect(try await VKSScheduleJob.queueDue(pool: setup.vksPool, interval: .seconds(60), requestsPerMinute: 2, logger: logger) == 1)
            #expect(try await VKSScheduleJob.queueDue(pool: setup.vksPool, interval: .seconds(60), requestsPerMinute: 2, logger: logger) == 0)
            #expect(try await setup.world.db.count("SELECT count(DISTINCT payload->>'fingerprint') FROM jobs WHERE kind = 'vks.refresh'") == 3)
        }
    }

    @Test("platformctl vks refresh follows the service's refreshes to a summary; vks status shows each key's record")
    func platformctl() async throws {
        try await Self.withSetup { setup in
            let db = setup.world.db
            try setup.world.vks.publish(setup.stored, verified: [])
            let worker = JobWorker(queue: VKSRefreshJob.queue,
                                   handlers: VKSSyncApplication.handlers(setup.refresher(), scheduleInterval: .seconds(60), requestsPerMinute: 600,
                                                                         logger: db.logger),
                                   jobs: JobQueue(pool: setup.vksPool), wakeups: nil,
                                   options: .init(concurrency: 1, batchSize: 10, pollInterval: .milliseconds(50)), logger: db.logger)
            // The service's worker runs while platformctl queues the refresh and waits for it.
            let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [], logger: db.logger)
            async let running: Void = group.run()
            let refreshed = try await db.platformctl(["vks", "refresh", setup.fingerprint.hex])
            await group.triggerGracefulShutdown()
            try await running
            #expect(refreshed.status == 0, "\(refreshed.output)")
            #expect(refreshed.output.contains("found") && refreshed.output.contains("valid"), "\(refreshed.output)")

            let status = try await db.platformctl(["vks", "status", setup.fingerprint.hex])
            #expect(status.status == 0 && status.output.contains("vks            found") && status.output.contains("stale          no"), "\(status.output)")
            let summary = try await db.platformctl(["vks", "status", "--json"])
            #expect(summary.status == 0 && summary.output.contains("\"keys\" : \"1\""), "\(summary.output)")
            let unknown = try await db.platformctl(["vks", "refresh", "--no-wait", String(repeating: "AB", count: 20)])
            #expect(unknown.status != 0 && unknown.output.contains("not stored"), "\(unknown.output)")
            let queued = try await db.platformctl(["vks", "refresh", "--no-wait", "--all"])
            #expect(queued.status == 0 && queued.output.contains("queued 1 refreshes"), "\(queued.output)")
            #expect(try await db.count("SELECT count(*) FROM jobs WHERE kind = 'vks.refresh'") == 1)
        }
    }

    @Test("The rate limiter hands out turns evenly spaced, however many ask at once")
    func rateLimiter() async throws {
        let limiter = VKSRateLimiter(perMinute: 60)
        let start = ContinuousClock.now
        let turns = await withTaskGroup(of: ContinuousClock.Instant.self) { group in
            for _ in 0..<20 { group.addTask { limiter.reserve() } }
            return await group.reduce(into: []) { $0.append($1) }.sorted()
        }
        #expect(turns.first! >= start)
        for (earlier, later) in zip(turns, turns.dropFirst()) {
            #expect(later - earlier == limiter.spacing)
        }
    }
}
