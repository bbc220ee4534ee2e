import Core
import HTTPFetch

extension MTASTSPolicy {
    /// The policy as `key: value` lines (for Postfix's `policy_string` attributes).
    public var lines: [String] {
        ["version: STSv1", "mode: \(mode.rawValue)"] + mx.map { "mx: \($0)" } + ["max_age: \(maxAge)"]
    }

    /// The policy file as we serve it: the lines, each ended by CRLF (RFC 8461 §3.2's ABNF).
    public var servedText: String {
        lines.map { $0 + "\r\n" }.joined()
    }

    /// The `id` of the `_mta-sts` TXT record for this policy: the first 20 hex digits of the SHA-256 of
    /// `servedText`. It changes exactly when the policy does, which is when RFC 8461 §3.1 asks for a new
    /// id, so `platformctl dns records` can print it and `platformctl doctor` can check it.
    public var recordID: String {
        Hex.string(SHA2.sha256(Array(servedText.utf8)).prefix(10))
    }
}
