import Hummingbird
import Logging

/// The request context of Palisade's HTTP APIs: Hummingbird's core storage plus the caller that the
/// bearer token identified (nil until `BearerTokenMiddleware` ran).
public struct ServiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The name of the token the request presented (`webmail` for `webmail:…`).
    public var caller: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = CoreRequestContextStorage(source: source)
        self.caller = nil
    }

    /// API bodies are small JSON objects.
    public var maxUploadSize: Int { 64 * 1024 }
}
