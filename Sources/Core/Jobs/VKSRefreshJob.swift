/// The `vks.refresh {fingerprint}` job: "fetch this key's status from the validating key server".
///
/// Queued by the keystore when a key arrives or changes, and by the scheduler; handled by the VKS sync
/// worker, which merges what verifies. One active job per key, like `wkd.refresh`.
public enum VKSRefreshJob {
    public static let kind = "vks.refresh"
    public static let queue = "vks"

    public struct Payload: Codable, Sendable, Equatable {
        /// `Fingerprint.hex`: upper-case hex.
        public var fingerprint: String
        public init(fingerprint: String) { self.fingerprint = fingerprint }
    }

    public static func make(fingerprint: Fingerprint) throws -> NewJob {
        try NewJob(kind: kind, payload: Payload(fingerprint: fingerprint.hex), queue: queue, uniqueKey: "\(kind):\(fingerprint.hex)")
    }
}
