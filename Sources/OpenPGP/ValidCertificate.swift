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
        /// Revoked by a hard reason (compromised, none given) at any time, or by a soft one (superseded,
        /// retired) not followed by a newer binding, as for the primary key.
        public var isRevoked: Bool {
            let newestBinding = bindings.last?.creationTime ?? 0
            return revocations.contains { revocation in
                !RevocationReason(revocation.revocationReason?.code).isSoft || (revocation.creationTime ?? 0) >= newestBinding
            }
        }
    }

    /// How a certificate stands at a given time.
    public enum Status: Sendable, Equatable {
        case valid
        /// Nothing holds the key up: its primary key is refused by the policy, or it has neither a valid
        /// direct-key signature nor a current User ID.
        case invalid(reason: String)
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

    /// When the certificate expires (seconds since 1970), nil: never. For a v6 key the newest valid
    /// direct-key signature says (RFC 9580 §5.2.3.10); for v4 the newest self-signature that carries a
    /// key-expiration subpacket, of the direct-key signatures and the primary User ID's, as gpg and
    /// Sequoia read it (gpg's --quick-set-expire only updates the User ID signatures).
    public var expirationTime: UInt32? {
        let candidates: [SignaturePacket]
        if primaryKey.version == 6 {
            candidates = directKeySignatures.suffix(1)
        } else {
            candidates = (directKeySignatures + (primaryUserID?.certifications.suffix(1) ?? [])).filter { $0.keyExpirationSeconds != nil }
        }
        guard let source = candidates.max(by: { ($0.creationTime ?? 0) < ($1.creationTime ?? 0) }),
              let seconds = source.keyExpirationSeconds, seconds > 0 else { return nil }
        return primaryKey.creationTime &+ seconds
    }

    /// Why nothing holds this key up, if so.
    public let invalidity: String?

    public func status(at time: UInt32) -> Status {
        if let invalidity { return .invalid(reason: invalidity) }
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
        let weakPrimary = policy.rejection(of: primary)
        if let weakPrimary { dropped.append("primary key: \(weakPrimary)") }
        var primaryVerifier: VerificationKey?
        func preparedPrimary() -> VerificationKey {
            if let primaryVerifier { return primaryVerifier }
            let made = VerificationKey(primary)
            primaryVerifier = made
            return made
        }

        func drop(_ message: String) {
            if dropped.count < 100 { dropped.append(message) } else if dropped.count == 100 { dropped.append("… and more") }
        }
        /// Self-signatures of `types` in `signatures` that verify over `context`, oldest first. Only the
        /// newest `maximumSignaturesPerComponent` are checked: a flood of signatures costs nothing more.
        func valid(_ signatures: [SignaturePacket], _ types: Set<UInt8>, _ context: SignatureVerification.Context, _ what: String) -> [SignaturePacket] {
            var kept: [SignaturePacket] = []
            let candidates = signatures.filter { types.contains($0.type.id) }
            let checked = candidates.sorted { ($0.creationTime ?? 0) > ($1.creationTime ?? 0) }.prefix(policy.maximumSignaturesPerComponent)
            if candidates.count > checked.count {
                drop("\(what): \(candidates.count - checked.count) older signature(s) of type \(types.map { "0x" + String($0, radix: 16) }.sorted().joined(separator: "/")) not checked")
            }
            for signature in checked {
                guard signature.mayBeIssued(byFingerprint: fingerprint, keyID: keyID) else {
                    drop("\(what): third-party signature (type \(signature.type)) not kept")
                    continue
                }
                if let failure = SignatureVerification.failure(of: signature, by: primary, prepared: preparedPrimary, over: context, at: time, policy: policy) {
                    drop("\(what): signature type \(signature.type) dropped: \(failure)")
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
                drop("\(what): no valid self-certification")
                continue
            }
            userIDs.append(.init(value: userID.value, certifications: certifications, revocations: userRevocations))
        }
        var attributes: [ValidCertificate.UserAttribute] = []
        for (index, attribute) in userAttributes.enumerated() {
            let what = "User Attribute \(index + 1)"
            let certifications = valid(attribute.signatures, [0x10, 0x11, 0x12, 0x13], .userAttribute(primary, attribute.value), what)
            guard !certifications.isEmpty else {
                drop("\(what): no valid self-certification")
                continue
            }
            attributes.append(.init(value: attribute.value, certifications: certifications,
                                    revocations: valid(attribute.signatures, [0x30], .userAttribute(primary, attribute.value), what)))
        }
        var subkeys: [ValidCertificate.Subkey] = []
        for subkey in self.subkeys {
            let what = "subkey \(subkey.key.fingerprint.hex)"
            if let weak = policy.rejection(of: subkey.key) {
                drop("\(what): \(weak)")
                continue
            }
            if primary.version == 6, subkey.key.version != 6 {
                drop("\(what): a v6 key's subkeys must be v6")
                continue
            }
            var bindings = valid(subkey.signatures, [0x18], .subkey(primary, subkey.key), what)
            // A subkey that can sign must prove it agreed to the binding (embedded 0x19 by the subkey).
            bindings = bindings.filter { binding in
                // Required when the binding lets the subkey sign or certify, or gives no flags for a key
                // that can sign (gpg then infers the use from the algorithm).
                let flags = binding.keyFlags?.first
                guard flags.map({ $0 & 0x03 != 0 }) ?? subkey.key.algorithm.canSign else { return true }
                let backed = binding.embeddedSignatures.contains { embedded in
                    guard let back = try? SignaturePacket(body: embedded, offset: 0, limits: .default), back.type == .primaryKeyBinding else { return false }
                    return SignatureVerification.failure(of: back, by: subkey.key, prepared: { VerificationKey(subkey.key) },
                                                         over: .subkey(primary, subkey.key), at: time, policy: policy) == nil
                }
                if !backed { drop("\(what): signing binding without a valid primary-key binding") }
                return backed
            }
            guard !bindings.isEmpty else {
                drop("\(what): no valid binding signature")
                continue
            }
            let subkeyRevocations = valid(subkey.signatures, [0x28], .subkey(primary, subkey.key), what)
            subkeys.append(.init(key: subkey.key, bindings: bindings, revocations: subkeyRevocations))
        }
        var invalidity: String?
        if let weakPrimary {
            invalidity = "primary key: \(weakPrimary)"
        } else if direct.isEmpty && !userIDs.contains(where: { !$0.isRevoked }) {
            invalidity = "no valid direct-key signature and no current User ID"
        } else if primary.version == 6 && direct.isEmpty {
            invalidity = "a v6 key needs a valid direct-key signature (RFC 9580 §10.1.1)"
        }
        return ValidCertificate(primaryKey: primary, directKeySignatures: direct, keyRevocations: revocations,
                                userIDs: userIDs, userAttributes: attributes, subkeys: subkeys, dropped: dropped, invalidity: invalidity)
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
