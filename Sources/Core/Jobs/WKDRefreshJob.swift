/// The `wkd.refresh {address}` job: "what the WKD publisher serves for this address may have changed".
///
/// Queued by the alias manager, the keystore and the VKS sync worker in the transaction of the change;
/// handled by the WKD publisher, which recomputes the entry from the tables. One active job per address
/// is enough (the handler reads the current state), so later changes while one waits are folded into it.
public enum WKDRefreshJob {
    public static let kind = "wkd.refresh"
    public static let queue = "wkd"

    public struct Payload: Codable, Sendable, Equatable {
        /// `EmailAddress.canonical`.
        public var address: String
        public init(address: String) { self.address = address }
    }

    public static func make(address: EmailAddress) throws -> NewJob {
        try make(canonicalAddress: address.canonical)
    }

    public static func make(canonicalAddress: String) throws -> NewJob {
        try NewJob(kind: kind, payload: Payload(address: canonicalAddress), queue: queue, uniqueKey: "\(kind):\(canonicalAddress)")
    }
}
