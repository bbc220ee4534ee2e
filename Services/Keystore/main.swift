// palisade-keystore: the accounts' OpenPGP keys and the addresses they are published for, over an HTTP
// API. See README.md, "Keystore".
import Core
import HTTPService
import Keystore
import KeystoreAPI

let (configuration, logger) = await ServiceCommandLine.start(program: "palisade-keystore", settings: KeystoreSettings.all)
let pool = PostgresPool(configuration: PostgresConfiguration(configuration, applicationName: "palisade-keystore"), logger: logger)
defer { pool.close() }
let keystore = AccountKeystore(pool: pool, configuration, logger: logger)
let tokens = BearerTokens(KeystoreSettings.apiTokens.read(configuration))
let host = KeystoreSettings.listenHost.read(configuration)
let port = KeystoreSettings.listenPort.read(configuration)
ServiceCommandLine.checked(configuration, program: "palisade-keystore")
try await ServiceApplication.run(KeystoreApplication.router(keystore: keystore, tokens: tokens), serverName: "palisade-keystore",
                                 host: host, port: port, tokens: tokens, tokensKey: KeystoreSettings.apiTokens.key, logger: logger)
