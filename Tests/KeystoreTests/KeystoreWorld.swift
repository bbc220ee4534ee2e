import Aliases
import Core
import CoreTestSupport
import Foundation
import Keystore
import Logging

/// A database with the platform domain example.org, the custom domain work.example, Mia's account
/// (mia@example.org, alias mia@work.example and other@example.org) and Bob's; and a keystore acting as
/// the `palisade_keystore` role, as the service does.
struct KeystoreWorld {
    let db: TestDatabase
    let servicePool: PostgresPool
    let keystore: AccountKeystore
    let mia: Int64
    let bob: Int64
    static let actor = "api:test"

    static func make(maxImportSize: Int = 1 << 20) async throws -> KeystoreWorld {
        let db = try await TestDatabase.create()
        let admin = AliasDirectory(pool: db.pool, rules: AddressRules(), logger: db.logger)
        let op = AliasDirectory.Actor(name: "test")
        _ = try await admin.addPlatformDomain("example.org", by: op)
        let mia = try await admin.createAccount(primary: "mia@example.org", by: op).id
        let bob = try await admin.createAccount(primary: "bob@example.org", by: op).id
        _ = try await admin.addCustomDomain("work.example", for: mia, by: op)
        _ = try await admin.createAlias("mia@work.example", for: mia, by: op)
        _ = try await admin.createAlias("other@example.org", for: mia, by: op)
        let servicePool = db.pool(as: "palisade_keystore", maxConnections: 4)
        return KeystoreWorld(db: db, servicePool: servicePool, keystore: AccountKeystore(pool: servicePool, maxImportSize: maxImportSize, logger: db.logger),
                             mia: mia, bob: bob)
    }

    func close() {
        servicePool.close()
        db.pool.close()
    }

    /// A fixture of the OpenPGP tests (made by gpg, sq and pysequoia; see their make-fixtures.sh).
    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("Tests/OpenPGPTests/Fixtures/\(name)")))
    }

    static let miaFingerprint = "D970DC6451D08753251260E2D1EC063379BFFA0F"

    func count(_ sql: String) async throws -> Int { try await db.count(sql) }

    func jobs(_ kind: String, _ field: String, _ value: String) async throws -> Int {
        try await db.count("SELECT count(*) FROM jobs WHERE kind = '\(kind)' AND payload->>'\(field)' = '\(value)'")
    }
}

/// The code of the `KeystoreError` `body` throws, nil if it throws none.
func refusal(_ body: () async throws -> Void) async -> KeystoreError.Code? {
    do {
        try await body()
        return nil
    } catch let error as KeystoreError {
        return error.code
    } catch {
        return nil
    }
}
