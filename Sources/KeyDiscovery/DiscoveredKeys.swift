import Core
import Foundation
import OpenPGP

/// A key a source gave for an address, cut down to what the asker needs: the primary key, the one User
/// ID with the asked address, and the subkeys (the [openpgp] library's WKD minimisation). Other User IDs
/// and User Attributes a source sent are never kept or passed on.
public struct DiscoveredKey: Sendable, Equatable {
    public let fingerprint: Fingerprint
    /// The minimised certificate, binary.
    public let certificate: [UInt8]
    public let expiresAt: Date?

    public init(fingerprint: Fingerprint, certificate: [UInt8], expiresAt: Date?) {
        self.fingerprint = fingerprint
        self.certificate = certificate
        self.expiresAt = expiresAt
    }
}

/// Sorts what a source served into the keys that count for an address and the reasons the others do not.
public enum DiscoveredKeys {
    /// The most certificates of one answer that are looked at; a source serving more is broken or hostile.
    public static let maxCertificates = 16

    /// What `data` holds for `address` at `time`: only certificates that are valid (not expired, not
    /// revoked, held up by a self-signature) with a current User ID for exactly that address count.
    /// Throws when `data` is not OpenPGP at all (the source is broken, which is not the same as "no key").
    public static func sort(_ data: [UInt8], for address: EmailAddress, at time: Date) throws(OpenPGPError) -> (keys: [DiscoveredKey], refused: [String]) {
        let seconds = UInt32(clamping: Int64(time.timeIntervalSince1970))
        let certificates = try Certificate.parse(data)
        guard !certificates.isEmpty else { throw OpenPGPError(.malformed, "the data holds no certificate") }
        guard certificates.count <= maxCertificates else {
            throw OpenPGPError(.tooLarge, "\(certificates.count) certificates for one address, more than \(maxCertificates)")
        }
        var keys: [DiscoveredKey] = []
        var refused: [String] = []
        for certificate in certificates {
            let fingerprint = certificate.fingerprint
            // No User ID with the address at all: nothing to verify.
            guard certificate.userIDs.contains(where: { $0.email == address }) else {
                refused.append("key \(fingerprint.hex) has no valid User ID for \(address.canonical)")
                continue
            }
            let valid = certificate.validated(at: seconds)
            switch valid.status(at: seconds) {
            case .valid:
                break
            case .invalid(let reason):
                refused.append("key \(fingerprint.hex) is not valid: \(reason)")
                continue
            case .notYetValid:
                refused.append("key \(fingerprint.hex) is not valid yet")
                continue
            case .expired(let at):
                refused.append("key \(fingerprint.hex) expired \(Date(timeIntervalSince1970: TimeInterval(at)).formatted(.iso8601))")
                continue
            case .revoked(let reason, _, _):
                refused.append("key \(fingerprint.hex) is revoked (\(reason))")
                continue
            }
            guard valid.currentUserIDs.contains(where: { $0.email == address }), let minimized = valid.minimized(for: address) else {
                refused.append("key \(fingerprint.hex) has no valid User ID for \(address.canonical)")
                continue
            }
            guard !keys.contains(where: { $0.fingerprint == fingerprint }) else { continue }
            keys.append(DiscoveredKey(fingerprint: fingerprint, certificate: minimized,
                                      expiresAt: valid.expirationTime.map { Date(timeIntervalSince1970: TimeInterval($0)) }))
        }
        return (keys, refused)
    }

    /// The reasons, at most three of them, for an attempt's detail.
    public static func summary(_ refused: [String]) -> String? {
        guard !refused.isEmpty else { return nil }
        return refused.prefix(3).joined(separator: "; ") + (refused.count > 3 ? "; and \(refused.count - 3) more" : "")
    }
}
