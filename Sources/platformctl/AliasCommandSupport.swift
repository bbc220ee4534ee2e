import Aliases
import Core
import Foundation
import Keystore

extension CommandContext {
    /// The alias rules as the configuration sets them, acting for the operator running platformctl.
    var directory: AliasDirectory {
        AliasDirectory(pool: pool, rules: AddressRules(configuration), logger: logger)
    }

    /// The keystore as the configuration sets it, acting for the operator.
    var keystore: AccountKeystore {
        AccountKeystore(pool: pool, configuration, logger: logger)
    }

    /// `platformctl:<login>` in the audit log.
    static func actor(allowReserved: Bool = false) -> AliasDirectory.Actor {
        let environment = ProcessInfo.processInfo.environment
        let login = environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? "uid\(getuid())"
        return AliasDirectory.Actor(name: "platformctl:\(login)", allowReserved: allowReserved)
    }
}

extension Output {
    static func addresses(_ rows: [AddressRecord]) {
        table(["ADDRESS", "KIND", "DOMAIN", "STATE", "DELETABLE", "CREATED", "DISABLED"], rows.map {
            [$0.address, $0.kind, "\($0.domain) (\($0.domainKind))", $0.enabled ? "enabled" : "disabled", $0.deletable ? "yes" : "no",
             date($0.createdAt), date($0.disabledAt)]
        })
    }

    static func accounts(_ rows: [AccountRecord]) {
        table(["ID", "PRIMARY ADDRESS", "STATE", "CREATED", "CLOSED"], rows.map {
            [String($0.id), $0.primaryAddress ?? "-", $0.state, date($0.createdAt), date($0.closedAt)]
        })
    }

    static func domains(_ rows: [DomainRecord]) {
        table(["DOMAIN", "KIND", "ACCOUNT", "CREATED"], rows.map {
            [$0.name, $0.kind, $0.accountID.map(String.init) ?? "-", date($0.createdAt)]
        })
    }
}
