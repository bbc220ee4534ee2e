// palisade-aliases: accounts, their addresses and custom domains over an HTTP API, under the rule that
// platform-domain aliases are never deleted after the cutoff. See README.md, "Alias manager".
import AliasAPI
import Aliases
import Core
import HTTPService

let (configuration, logger) = await ServiceCommandLine.start(program: "palisade-aliases", settings: AliasSettings.all)
let pool = PostgresPool(configuration: PostgresConfiguration(configuration, applicationName: "palisade-aliases"), logger: logger)
defer { pool.close() }
let directory = AliasDirectory(pool: pool, rules: AddressRules(configuration), logger: logger)
let tokens = BearerTokens(AliasSettings.apiTokens.read(configuration))
let host = AliasSettings.listenHost.read(configuration)
let port = AliasSettings.listenPort.read(configuration)
ServiceCommandLine.checked(configuration, program: "palisade-aliases")
try await ServiceApplication.run(AliasApplication.router(directory: directory, tokens: tokens), serverName: "palisade-aliases",
                                 host: host, port: port, tokens: tokens, tokensKey: AliasSettings.apiTokens.key, logger: logger)
