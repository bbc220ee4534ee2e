import Core
import DNS
import HTTPFetch

/// Every setting the shared libraries read, so `platformctl config check` validates the whole file's
/// library sections and `--keys` documents them; the services' own sections are left to the services.
enum PlatformSettings {
    static let all: [any AnyConfigSetting] = CoreSettings.all + DNSSettings.all + HTTPFetchSettings.all
    static let schema = ConfigSchema(settings: all, foreignSections: CoreSettings.serviceSections)
}
