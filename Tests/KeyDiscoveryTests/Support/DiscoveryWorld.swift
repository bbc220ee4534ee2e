import Aliases
import Core
import CoreTestSupport
import DNS
import Foundation
import HTTPFetch
import KeyDiscovery
import Logging
import OpenPGP

/// The test world seen by key discovery: its DNS and HTTPS, the WKD hosts' directories, the VKS server,
/// keys made by gpg, and a database with a platform domain of ours.
struct DiscoveryWorld {
    let world: TestWorld
    let db: TestDatabase
    let servicePool: PostgresPool
    let resolver: DNSResolver
    let fetcher: HTTPFetcher
    let vks: TestVKS
    /// A platform domain of ours, for the answers from our own tables.
    static let ownDomain = "own.example"

    static func make() async throws -> DiscoveryWorld {
        let world = try TestWorld.current()
        let db = try await TestDatabase.create()
        let logger = Logger(label: "palisade.test.discovery")
        let resolver = try world.resolver(timeout: .seconds(3), logger: logger)
        let fetcher = try world.fetcher(resolver: resolver, logger: logger)
        let admin = AliasDirectory(pool: db.pool, rules: AddressRules(), logger: logger)
        _ = try await admin.addPlatformDomain(ownDomain, by: AliasDirectory.Actor(name: "test"))
        return DiscoveryWorld(world: world, db: db, servicePool: db.pool(as: "palisade_keystore", maxConnections: 4), resolver: resolver,
                              fetcher: fetcher, vks: try await TestVKS.running(in: world))
    }

    func close() {
        servicePool.close()
        db.pool.close()
    }

    var vksURL: URL { URL(string: "https://keys.secure.palisade.example:\(world.httpsPort)")! }

    /// The world lives on 127.0.0.1: private addresses are allowed unless a test says otherwise.
    func configuration(wkdEnabled: Bool = true, allowPrivateAddresses: Bool = true, failureLifetime: Duration = .seconds(300)) -> KeyDiscoveryConfiguration {
        KeyDiscoveryConfiguration(vksURL: vksURL, wkdEnabled: wkdEnabled, wkdPort: world.httpsPort, allowPrivateAddresses: allowPrivateAddresses,
                                  failureLifetime: failureLifetime, timeout: .seconds(10))
    }

    func lookup(_ configuration: KeyDiscoveryConfiguration? = nil, now: @escaping @Sendable () -> Date = { Date() }) -> KeyLookup {
        KeyLookup(pool: servicePool, fetcher: fetcher, resolver: resolver, configuration: configuration ?? self.configuration(),
                  logger: db.logger, now: now)
    }

    /// A local part no other test uses.
    static func unique(_ prefix: String = "t") -> String { "\(prefix)\(UUID().uuidString.prefix(8).lowercased())" }

    enum Method { case advanced, direct }

    /// Puts `key` where the WKD host of `domain` serves it for `localPart` (`domain` one of the world's
    /// wkd-*.secure.palisade.example).
    func serveWKD(_ key: [UInt8], localPart: String, domain: String, method: Method) throws {
        let hash = WKDHash.hash(localPart: localPart)
        let directory = switch method {
        case .advanced: "\(world.wkdRoot)/openpgpkey.\(domain)/.well-known/openpgpkey/\(domain)/hu"
        case .direct: "\(world.wkdRoot)/\(domain)/.well-known/openpgpkey/hu"
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(key).write(to: URL(fileURLWithPath: "\(directory)/\(hash)"))
    }

    /// How many requests in nginx's access log contain `text`.
    func accessLogLines(containing text: String) throws -> Int {
        let log = URL(fileURLWithPath: world.wkdRoot).deletingLastPathComponent().appendingPathComponent("access.log")
        return try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { $0.contains(text) }.count
    }

    /// The count once it reaches `expected` (nginx writes a request's line after sending its response),
    /// or the last count seen after 10 seconds.
    func accessLogLines(containing text: String, reaching expected: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let count = try accessLogLines(containing: text)
            if count >= expected || ContinuousClock.now > deadline { return count }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Keys made by gpg for the tests, one home for the process (gpg is slow to start), its calls made one
/// at a time (an actor alone would interleave them at each await).
actor TestKeys {
    static let shared = TestKeys()
    private var home: GnuPGHome?
    private var tail: Task<Void, Never>?

    /// Runs `body` after every call made before it has finished.
    private func serially<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tail
        let task = Task { () async throws -> T in
            _ = await previous?.value
            return try await body()
        }
        tail = Task { _ = try? await task.value }
        return try await task.value
    }

    private func gnupg() throws -> GnuPGHome {
        if let home { return home }
        // In the world's directory: world.sh stops its agent with the world.
        let made = try GnuPGHome(directory: URL(fileURLWithPath: try TestWorld.current().wkdRoot).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("gnupg"))
        home = made
        return made
    }

    /// A new Ed25519 key with an encryption subkey whose User IDs are `addresses`, binary.
    func make(_ addresses: [String]) async throws -> (fingerprint: String, key: [UInt8]) {
        let home = try gnupg()
        return try await serially { try await Self.make(addresses, in: home) }
    }

    private static func make(_ addresses: [String], in home: GnuPGHome) async throws -> (fingerprint: String, key: [UInt8]) {
        let fingerprint = try await home.generate(addresses[0], passphrase: "", otherAddresses: Array(addresses.dropFirst()))
        return (fingerprint, try await export(fingerprint, in: home))
    }

    /// A key that expired in 2020.
    func makeExpired(_ address: String) async throws -> (fingerprint: String, key: [UInt8]) {
        let home = try gnupg()
        return try await serially {
            _ = try await home.gpg(["--faked-system-time", "20200101T000000!", "--quick-gen-key", "Old <\(address)>", "ed25519", "default", "2020-01-02"])
            let fingerprint = try await home.fingerprint(address)
            return (fingerprint, try await Self.export(fingerprint, in: home))
        }
    }

    /// The key with a revocation of it.
    func revoke(_ fingerprint: String) async throws -> [UInt8] {
        let home = try gnupg()
        return try await serially { try await Self.revoke(fingerprint, in: home) }
    }

    private static func revoke(_ fingerprint: String, in home: GnuPGHome) async throws -> [UInt8] {
        let revocation = home.home.appendingPathComponent("openpgp-revocs.d/\(fingerprint).rev")
        var text = try String(contentsOf: revocation, encoding: .utf8)
        text = text.replacingOccurrences(of: ":-----BEGIN", with: "-----BEGIN")
        let file = home.home.appendingPathComponent("revoke-\(fingerprint).asc")
        try text.write(to: file, atomically: true, encoding: .utf8)
        _ = try await home.gpg(["--import", file.path])
        return try await export(fingerprint, in: home)
    }

    private static func export(_ fingerprint: String, in home: GnuPGHome) async throws -> [UInt8] {
        let armored = try await home.gpg(["--armor", "--export", fingerprint])
        guard let block = try Armor.decode(Array(armored.utf8)).first else { throw TestSetupError("gpg exported nothing for \(fingerprint)") }
        return block.data
    }
}
