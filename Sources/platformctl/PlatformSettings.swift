import Core
import DomainDoctor
import DNS
import HTTPFetch
import Aliases
import KeyDiscovery
import Keystore
import TLSReporting
import TransportPolicy
import VKSSync

/// Every setting the shared libraries read, so `platformctl config check` validates the whole file's
/// library sections and `--keys` documents them. The services' own sections are left to the services,
/// except `aliases`, `keystore`, `vks`, `transport`, `tlsrpt` and `doctor`, whose rules platformctl's alias, key, vks, transport, tlsrpt, doctor and dns commands apply too.
enum PlatformSettings {
    static let all: [any AnyConfigSetting] = CoreSettings.all + DNSSettings.all + HTTPFetchSettings.all + KeyDiscoverySettings.all + AliasSettings.all + KeystoreSettings.all + VKSSyncSettings.all + TransportSettings.all + MilterSettings.all + TLSReportSettings.all + DoctorSettings.all
    static let schema = CoreSettings.schema(adding: DNSSettings.all + HTTPFetchSettings.all + KeyDiscoverySettings.all + AliasSettings.all + KeystoreSettings.all + VKSSyncSettings.all + TransportSettings.all + MilterSettings.all + TLSReportSettings.all + DoctorSettings.all)
}
