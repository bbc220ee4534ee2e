// palisade-keystore: the accounts' OpenPGP keys and the addresses they are published for, and look-ups
// of other people's keys (WKD, then the VKS), over an HTTP API. See README.md, "Keystore".
import Core
import DNS
import HTTPFetch
import HTTPService
import KeyDiscovery
import Keystore
import KeystoreAPI
import VKSSync

let (configuration, logger) = await ServiceCommandLine.start(
    program: "palisade-keystore", settings: KeystoreSettings.all + KeyDiscoverySettings.all + DNSSettings.all + HTTPFetchSettings.all)
let pool = PostgresPool(configuration: PostgresConfiguration(configuration, applicationName: "palisade-keystore"), logger: logger)
defer { pool.close() }
let keystore = AccountKeystore(pool: pool, configuration, logger: logger)
let tokens = BearerTokens(KeystoreSettings.apiTokens.read(configuration))
let host = KeystoreSettings.listenHost.read(configuration)
let port = KeystoreSettings.listenPort.read(configuration)
let discovery = KeyDiscoveryConfiguration(configuration)
let signerTimeout = KeystoreSettings.signerTimeout.read(configuration)
ServiceCommandLine.checked(configuration, program: "palisade-keystore")
let lookup: KeyLookup
let signers: SignerCheck
let publication: VKSKeyPublication
do {
    let resolver = try DNSResolver(configuration, logger: logger)
    let fetcher = try HTTPFetcher(configuration, resolver: resolver, logger: logger)
    lookup = KeyLookup(pool: pool, fetcher: fetcher, resolver: resolver, configuration: discovery, logger: logger)
    // One client for both, so that a 429 to either holds the other back too.
    let vks = VKSClient(fetcher: fetcher, configuration: discovery)
    signers = SignerCheck(pool: pool, client: vks.withTimeout(signerTimeout), logger: logger)
    publication = VKSKeyPublication(keystore: keystore, client: vks)
} catch {
    ServiceCommandLine.fail("palisade-keystore", "configuration error:\n\(error)")
}
try await ServiceApplication.run(KeystoreApplication.router(keystore: keystore, lookup: lookup, signers: signers, publication: publication, tokens: tokens), serverName: "palisade-keystore",
                                 host: host, port: port, tokens: tokens, tokensKey: KeystoreSettings.apiTokens.key, logger: logger,
                                 alongside: [LookupCachePruner(lookup: lookup, logger: logger)])
