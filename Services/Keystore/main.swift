// palisade-keystore: the accounts' OpenPGP keys and the addresses they are published for, over an HTTP
// API. See README.md, "Keystore".
import Core
import HTTPService
import Keystore
import KeystoreAPI
import Logging

let (configuration, logger) = await ServiceCommandLine.start(program: "palisade-keystore", settings: KeystoreSettings.all)
let pool = PostgresPool(configuration: PostgresConfiguration(configuration, applicationName: "palisade-keystore"), logger: logger)
let keystore = AccountKeystore(pool: pool, configuration, logger: logger)
let tokens = BearerTokens(KeystoreSettings.apiTokens.read(configuration))
let host = KeystoreSettings.listenHost.read(configuration)
let port = KeystoreSettings.listenPort.read(configuration)
ServiceCommandLine.checked(configuration, program: "palisade-keystore")
if tokens.isEmpty {
    logger.warning("keystore.apiTokens is empty: every API request will be refused")
}
let readiness = ServiceReadiness()
let application = KeystoreApplication.make(keystore: keystore, tokens: tokens, host: host, port: port, logger: logger) { _ in
    readiness.markReady()
}
defer { pool.close() }
try await PalisadeServiceGroup(services: [application], logger: logger, readiness: readiness).run()
