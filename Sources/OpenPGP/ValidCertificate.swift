import Core

/// A certificate with everything that does not verify dropped: what Palisade serves and reasons about.
///
/// Built by `Certificate.validated(at:policy:)`. Only self-signatures are kept (third-party
/// certifications cannot be checked without their issuers' keys, and Palisade does not publish them).
/// A User ID needs a valid self-certification, a subkey a valid binding (and, if it can sign, a valid
/// primary-key binding inside it, RFC 9580 §5.2.1.8); revocations are kept when they verify.
public struct ValidCertificate: Sendable {
    public struct UserID: Sendable {
        public let value: [UInt8]
        /// Valid self-certifications, oldest first; the last is the one in force.
        public let certifications: [SignaturePacket]
        /// Valid certification revocations (0x30).
        public let revocations: [SignaturePacket]
        public var text: String { String(decoding: value, as: UTF8.self) }
        public var email: EmailAddress? { Certificate.UserID(value: value, signatures: []).email }
        public var isRevoked: Bool {
            guard let newest = certifications.last?.creationTime else { return true }
            return revocations.contains { ($0.creationTime ?? 0) >= newest }
        }
        public var isPrimary: Bool { certifications.last?.isPrimaryUserID ?? false }
    }

    /// A User Attribute (a photo, RFC 9580 §5.12) with its valid self-certifications. Kept in the
    /// canonical certificate, never in a WKD-minimised one.
    public struct UserAttribute: Sendable {
        public let value: [UInt8]
        public let certifications: [SignaturePacket]
        public let revocations: [SignaturePacket]
    }

    public struct Subkey: Sendable {
        public let key: PublicKeyPacket
        /// Valid bindings, oldest first; the last is in force.
        public let bindings: [SignaturePacket]
        public let revocations: [SignaturePacket]
        public var fingerprint: Fingerprint { key.fingerprint }
        public var keyFlags: UInt8 { bindings.last?.keyFlags?.first ?? 0 }
        /// When the subkey expires (seconds since 1970), nil: never.
        public var expirationTime: UInt32? {
            guard let seconds = bindings.last?.keyExpirationSeconds, seconds > 0 else { return nil }
            return key.creationTime &+ seconds
        }
        public var isRevoked: Bool { !revocations.isEmpty }
    }

    /// How a certificate stands at a given time.
    public enum Status: Sendable, Equatable {
        case valid
        case notYetValid
        case expired(at: UInt32)
        case revoked(reason: RevocationReason, text: String, at: UInt32)
    }

    /// RFC 9580 §5.2.3.31 reasons; the soft ones (superseded, retired, User ID no longer valid) take
    /// effect from the revocation's time, the others (and none given) make the key invalid at all times.
    public enum RevocationReason: Sendable, Equatable {
        case unspecified, superseded, compromised, retired, userIDInvalid
        case other(UInt8)

        init(_ code: UInt8?) {
            switch code {
            case nil, 0: self = .unspecified
            case 1: self = .superseded
            case 2: self = .compromised
            case 3: self = .retired
            case 32: self = .userIDInvalid
            case let code?: self = .other(code)
            }
        }

        public var isSoft: Bool { self == .superseded || self == .retired || self == .userIDInvalid }
    }

    public let primaryKey: PublicKeyPacket
    public let directKeySignatures: [SignaturePacket]
    public let keyRevocations: [SignaturePacket]
    public let userIDs: [UserID]
    public let userAttributes: [UserAttribute]
    public let subkeys: [Subkey]
    /// What was dropped and why, for logs and the keystore's answer to an upload.
    public let dropped: [String]

    public var fingerprint: Fingerprint { primaryKey.fingerprint }

    /// The User IDs in force: validly self-certified and not revoked.
    public var currentUserIDs: [UserID] { userIDs.filter { !$0.isRevoked } }

    /// The User ID whose self-signature governs the primary key: the newest primary-flagged one, else
    /// the newest certified one (RFC 9580 §5.2.3.27).
    public var primaryUserID: UserID? {
        let candidates = currentUserIDs
        let flagged = candidates.filter(\.isPrimary)
        return (flagged.isEmpty ? candidates : flagged).max { ($0.certifications.last?.creationTime ?? 0) < ($1.certifications.last?.creationTime ?? 0) }
    }

    /// When the certificate expires (seconds since 1970), nil: never. A valid direct-key signature's
    /// expiration wins; otherwise the primary User ID's self-signature's.
    public var expirationTime: UInt32? {
        let source = directKeySignatures.last ?? primaryUserID?.certifications.last
        guard let seconds = source?.keyExpirationSeconds, seconds > 0 else { return nil }
        return primaryKey.creationTime &+ seconds
    }

    public func status(at time: UInt32) -> Status {
        if primaryKey.creationTime > time { return .notYetValid }
        if let revocation = keyRevocations.first(where: { RevocationReason($0.revocationReason?.code).isSoft == false })
            ?? keyRevocations.filter({ ($0.creationTime ?? 0) <= time }).min(by: { ($0.creationTime ?? 0) < ($1.creationTime ?? 0) }) {
            return .revoked(reason: RevocationReason(revocation.revocationReason?.code), text: revocation.revocationReason?.text ?? "",
                            at: revocation.creationTime ?? 0)
        }
        if let expiration = expirationTime, expiration <= time { return .expired(at: expiration) }
        return .valid
    }
}

extension Certificate {
    /// Verifies every self-signature at `time` (seconds since 1970) under `policy` and keeps what holds.
    public func validated(at time: UInt32, policy: OpenPGPPolicy = .standard) -> ValidCertificate {
        let primary = primaryKey
        let fingerprint = primary.fingerprint.bytes
        let keyID = primary.keyID
        var dropped: [String] = []
        if let weak = policy.rejection(of: primary) { dropped.append("primary key: \(weak)") }
        var primaryVerifier: VerificationKey?
        func preparedPrimary() -> VerificationKey {
            if let primaryVerifier { return primaryVerifier }
            let made = VerificationKey(primary)
            primaryVerifier = made
            return made
        }

        /// Self-signatures of `types` in `signatures` that verify over `context`, oldest first.
        func valid(_ signatures: [SignaturePacket], _ types: Set<UInt8>, _ context: SignatureVerification.Context, _ what: String) -> [SignaturePacket] {
            var kept: [SignaturePacket] = []
            for signature in signatures where types.contains(signature.type.id) {
                guard signature.mayBeIssued(byFingerprint: fingerprint, keyID: keyID) else {
                    dropped.append("\(what): third-party signature (type \(signature.type)) not kept")
                    continue
                }
                if let failure = SignatureVerification.failure(of: signature, by: primary, prepared: preparedPrimary, over: context, at: time, policy: policy) {
                    dropped.append("\(what): signature type \(signature.type) dropped: \(failure)")
                } else {
                    kept.append(signature)
                }
            }
            return kept.sorted { ($0.creationTime ?? 0) < ($1.creationTime ?? 0) }
        }

        let direct = valid(directSignatures, [0x1F], .key(primary), "primary key")
        let revocations = valid(directSignatures, [0x20], .key(primary), "primary key")
        var userIDs: [ValidCertificate.UserID] = []
        for userID in self.userIDs {
            let what = "User ID \"\(userID.text.prefix(80))\""
            let certifications = valid(userID.signatures, [0x10, 0x11, 0x12, 0x13], .userID(primary, userID.value), what)
            let userRevocations = valid(userID.signatures, [0x30], .userID(primary, userID.value), what)
            if certifications.isEmpty {
                dropped.append("\(what): no valid self-certification")
                continue
            }
            userIDs.append(.init(value: userID.value, certifications: certifications, revocations: userRevocations))
        }
        var attributes: [ValidCertificate.UserAttribute] = []
        for (index, attribute) in userAttributes.enumerated() {
            let what = "User Attribute \(index + 1)"
            let certifications = valid(attribute.signatures, [0x10, 0x11, 0x12, 0x13], .userAttribute(primary, attribute.value), what)
            guard !certifications.isEmpty else {
                dropped.append("\(what): no valid self-certification")
                continue
            }
            attributes.append(.init(value: attribute.value, certifications: certifications,
                                    revocations: valid(attribute.signatures, [0x30], .userAttribute(primary, attribute.value), what)))
        }
        var subkeys: [ValidCertificate.Subkey] = []
        for subkey in self.subkeys {
            let what = "subkey \(subkey.key.fingerprint.hex)"
            if let weak = policy.rejection(of: subkey.key) {
                dropped.append("\(what): \(weak)")
                continue
            }
            var bindings = valid(subkey.signatures, [0x18], .subkey(primary, subkey.key), what)
            // A subkey that can sign must prove it agreed to the binding (embedded 0x19 by the subkey).
            bindings = bindings.filter { binding in
                guard let flags = binding.keyFlags?.first, flags & 0x02 != 0 else { return true }
                let backed = binding.embeddedSignatures.contains { embedded in
                    guard let back = try? SignaturePacket(body: embedded, offset: 0, limits: .default), back.type == .primaryKeyBinding else { return false }
                    return SignatureVerification.failure(of: back, by: subkey.key, prepared: { VerificationKey(subkey.key) },
                                                         over: .subkey(primary, subkey.key), at: time, policy: policy) == nil
                }
                if !backed { dropped.append("\(what): signing binding without a valid primary-key binding") }
                return backed
            }
            guard !bindings.isEmpty else {
                dropped.append("\(what): no valid binding signature")
                continue
            }
            let subkeyRevocations = valid(subkey.signatures, [0x28], .subkey(primary, subkey.key), what)
            subkeys.append(.init(key: subkey.key, bindings: bindings, revocations: subkeyRevocations))
        }
        return ValidCertificate(primaryKey: primary, directKeySignatures: direct, keyRevocations: revocations,
                                userIDs: userIDs, userAttributes: attributes, subkeys: subkeys, dropped: dropped)
    }
}

import Dispatch
import Synchronization

extension Certificate {
    /// Validates many certificates (a keyring) on every core: certificates are independent, so chunks of
    /// them are validated side by side. Results are in input order.
    public static func validated(_ certificates: [Certificate], at time: UInt32, policy: OpenPGPPolicy = .standard) -> [ValidCertificate] {
        let chunk = 64
        let chunks = (certificates.count + chunk - 1) / chunk
        let results = Mutex<[[ValidCertificate]]>(Array(repeating: [], count: chunks))
        DispatchQueue.concurrentPerform(iterations: chunks) { index in
            let range = index * chunk..<min(certificates.count, (index + 1) * chunk)
            let validated = certificates[range].map { $0.validated(at: time, policy: policy) }
            results.withLock { $0[index] = validated }
        }
        return results.withLock { $0.flatMap { $0 } }
    }
}
