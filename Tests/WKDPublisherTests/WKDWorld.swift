import Aliases
import Core
import CoreTestSupport
import Foundation
import Keystore
import Logging
import OpenPGP
import WKDPublishing

/// A database with the platform domain example.org, Ada's account (ada@example.org with the aliases
/// ada.lovelace@example.org and analyst@example.org) holding one key with a User ID for each of the three,
/// the custom domain ada.example of her account (alias ada@ada.example, also on the key… as a fourth User
/// ID), and the publisher acting as `palisade_wkd`.
struct WKDWorld {
    let db: TestDatabase
    let wkdPool: PostgresPool
    let keystorePool: PostgresPool
    let aliases: AliasDirectory
    let keystore: AccountKeystore
    let publication: WKDPublication
    let account: Int64
    let fingerprint: String
    let key: [UInt8]
    static let addresses = ["ada@example.org", "Ada.Lovelace@example.org", "analyst@example.org", "ada@ada.example"]
    static let op = AliasDirectory.Actor(name: "test")

    static func make() async throws -> WKDWorld {
        let db = try await TestDatabase.create()
        let aliases = AliasDirectory(pool: db.pool, rules: AddressRules(), logger: db.logger)
        _ = try await aliases.addPlatformDomain("example.org", by: op)
        let account = try await aliases.createAccount(primary: addresses[0], by: op).id
        _ = try await aliases.createAlias(addresses[1], for: account, by: op)
        _ = try await aliases.createAlias(addresses[2], for: account, by: op)
        _ = try await aliases.addCustomDomain("ada.example", for: account, by: op)
        _ = try await aliases.createAlias(addresses[3], for: account, by: op)
        let (fingerprint, key) = try await Self.key.value
        let keystorePool = db.pool(as: "palisade_keystore", maxConnections: 2)
        let keystore = AccountKeystore(pool: keystorePool, logger: db.logger)
        _ = try await keystore.importCertificates(key, for: account, by: "test")
        for address in addresses { try await keystore.bind(address, to: fingerprint, of: account, by: "test") }
        let wkdPool = db.pool(as: "palisade_wkd", maxConnections: 4)
        return WKDWorld(db: db, wkdPool: wkdPool, keystorePool: keystorePool, aliases: aliases, keystore: keystore,
                        publication: WKDPublication(pool: wkdPool, logger: db.logger), account: account, fingerprint: fingerprint, key: key)
    }

    func close() {
        wkdPool.close()
        keystorePool.close()
        db.pool.close()
    }

    /// One key with a User ID for each address, made by gpg once for the test process.
    static let key: Task<(String, [UInt8]), any Error> = Task {
        let home = try GnuPGHome()
        let fingerprint = try await home.generate(addresses[0], passphrase: "", otherAddresses: Array(addresses.dropFirst()))
        let armored = try await home.gpg(["--armor", "--export", fingerprint])
        await home.remove()
        guard let block = try Armor.decode(Array(armored.utf8)).first else { throw TestSetupError("gpg exported nothing") }
        return (fingerprint, block.data)
    }

    /// Recomputes every address the jobs would have.
    func refreshAll() async throws {
        for address in Self.addresses { try await publication.refresh(try EmailAddress(address).canonical) }
    }

    /// The User IDs of a served body.
    static func userIDs(_ body: [UInt8]) throws -> [String] {
        try Certificate.parse(body).flatMap { $0.userIDs.map(\.text) }
    }

    static func hash(_ address: String) throws -> String {
        WKDHash.hash(localPart: try EmailAddress(address).localPart)
    }
}
