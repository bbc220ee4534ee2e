import Core
import Foundation

extension KeyLookup {
    /// A key a look-up found, as an import takes it: from the answer, never from the caller.
    public struct Discovered: Sendable {
        public let key: DiscoveredKey
        public let source: DiscoverySource
    }

    /// The key `fingerprint` as the look-up of `email` finds it (the cached answer, or a new look-up).
    /// Throws `KeyLookupError.invalidFingerprint`; `.lookupFailed` when the key is not there and a source
    /// failed (it may be in the one that failed); `.keyNotFound` when every source answered without it.
    public func discovered(_ fingerprint: String, for email: String) async throws -> Discovered {
        guard let wanted = try? Fingerprint(fingerprint) else {
            throw KeyLookupError.invalidFingerprint("\(fingerprint.prefix(80)) is not a fingerprint (40 or 64 hex digits)")
        }
        let answer = try await lookup(email)
        if let key = answer.keys.first(where: { $0.fingerprint == wanted }), let source = answer.source {
            return Discovered(key: key, source: source)
        }
        let failures = answer.attempts.filter { $0.result == .failed }
        guard failures.isEmpty else {
            throw KeyLookupError.lookupFailed(
                "the look-up of \(answer.email) failed, so there is no key to import yet: "
                    + failures.map { "\($0.source.rawValue): \($0.detail ?? "failed")" }.joined(separator: "; "),
                retryAfter: answer.retryAfter)
        }
        let said = answer.outcome == .found ? "found \(answer.keys.map(\.fingerprint.hex).joined(separator: ", "))" : answer.outcome.rawValue
        throw KeyLookupError.keyNotFound("the look-up of \(answer.email) did not find key \(wanted.hex) (it said: \(said))")
    }
}
