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
import WKDPublishing

/// Every setting any part of Palisade reads, so `platformctl config check` validates the whole file and
/// `--keys` documents every key (Deploy/CONFIGURATION.md is generated from it; a test keeps the two equal and
/// checks that every settings list of the sources is here).
enum PlatformSettings {
    static let all: [any AnyConfigSetting] = CoreSettings.all + DNSSettings.all + HTTPFetchSettings.all + KeyDiscoverySettings.all + AliasSettings.all + KeystoreSettings.all + VKSSyncSettings.all + TransportSettings.all + MilterSettings.all + TLSReportSettings.all + DoctorSettings.all + WKDSettings.all
    static let schema = CoreSettings.schema(adding: DNSSettings.all + HTTPFetchSettings.all + KeyDiscoverySettings.all + AliasSettings.all + KeystoreSettings.all + VKSSyncSettings.all + TransportSettings.all + MilterSettings.all + TLSReportSettings.all + DoctorSettings.all + WKDSettings.all)
}
