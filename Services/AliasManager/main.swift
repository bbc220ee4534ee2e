// palisade-aliases: accounts, their addresses and custom domains over an HTTP API, under the rule that
// platform-domain aliases are never deleted after the cutoff. See README.md, "Alias manager".
import AliasAPI
import Aliases
import Core
import HTTPService
import Logging

let (configuration, logger) = await ServiceCommandLine.start(program: "palisade-aliases", settings: AliasSettings.all)
let pool = PostgresPool(configuration: PostgresConfiguration(configuration, applicationName: "palisade-aliases"), logger: logger)
let directory = AliasDirectory(pool: pool, rules: AddressRules(configuration), logger: logger)
let tokens = BearerTokens(AliasSettings.apiTokens.read(configuration))
let host = AliasSettings.listenHost.read(configuration)
let port = AliasSettings.listenPort.read(configuration)
ServiceCommandLine.checked(configuration, program: "palisade-aliases")
if tokens.isEmpty {
    logger.warning("aliases.apiTokens is empty: every API request will be refused")
}
let readiness = ServiceReadiness()
let application = AliasApplication.make(directory: directory, tokens: tokens, host: host, port: port, logger: logger) { _ in
    readiness.markReady()
}
defer { pool.close() }
try await PalisadeServiceGroup(services: [application], logger: logger, readiness: readiness).run()
