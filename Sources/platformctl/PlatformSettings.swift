import Core
import DNS
import HTTPFetch
import Aliases
import KeyDiscovery
import Keystore
import TransportPolicy
import VKSSync

/// Every setting the shared libraries read, so `platformctl config check` validates the whole file's
/// library sections and `--keys` documents them. The services' own sections are left to the services,
/// except `aliases`, `keystore`, `vks` and `transport`, whose rules platformctl's alias, key, vks and transport commands apply too.
enum PlatformSettings {
    static let all: [any AnyConfigSetting] = CoreSettings.all + DNSSettings.all + HTTPFetchSettings.all + KeyDiscoverySettings.all + AliasSettings.all + KeystoreSettings.all + VKSSyncSettings.all + TransportSettings.all
    static let schema = CoreSettings.schema(adding: DNSSettings.all + HTTPFetchSettings.all + KeyDiscoverySettings.all + AliasSettings.all + KeystoreSettings.all + VKSSyncSettings.all + TransportSettings.all)
}
