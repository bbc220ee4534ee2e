import Core
import DNS
import HTTPFetch
import Aliases

/// Every setting the shared libraries read, so `platformctl config check` validates the whole file's
/// library sections and `--keys` documents them. The services' own sections are left to the services,
/// except `aliases`, whose address rules platformctl's alias commands apply too.
enum PlatformSettings {
    static let all: [any AnyConfigSetting] = CoreSettings.all + DNSSettings.all + HTTPFetchSettings.all + AliasSettings.all
    static let schema = CoreSettings.schema(adding: DNSSettings.all + HTTPFetchSettings.all + AliasSettings.all)
}
