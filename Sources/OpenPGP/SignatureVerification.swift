/// Computes what a signature signs and checks it against a key, under a policy (RFC 9580 §5.2.4).
enum SignatureVerification {
    /// The data a signature covers, before its own hashed part.
    enum Context {
        /// Direct-key signatures and key revocations: the primary key.
        case key(PublicKeyPacket)
        /// Certifications and their revocations: the primary key and a User ID.
        case userID(PublicKeyPacket, [UInt8])
        /// Certifications of a User Attribute.
        case userAttribute(PublicKeyPacket, [UInt8])
        /// Subkey bindings, primary-key bindings and subkey revocations: the primary key and the subkey.
        case subkey(PublicKeyPacket, PublicKeyPacket)
    }

    /// Why `signature` does not hold for `signer` over `context` at `time`, or nil when it does.
    /// `prepared` is the signer made ready for OpenSSL, shared by all the signatures one key made.
    static func failure(of signature: SignaturePacket, by signer: PublicKeyPacket, prepared: () -> VerificationKey, over context: Context,
                        at time: UInt32, policy: OpenPGPPolicy) -> String? {
        if let critical = signature.unknownCriticalSubpacket { return "unknown critical subpacket \(critical)" }
        guard let created = signature.creationTime else { return "no signature creation time" }
        let isRevocation = [0x20, 0x28, 0x30].contains(signature.type.id)
        if UInt64(created) > UInt64(time) + UInt64(policy.clockSkew) { return "made in the future" }
        if created < signer.creationTime { return "older than the key that made it" }
        if let expiry = signature.expirationSeconds, expiry > 0, UInt64(created) + UInt64(expiry) <= UInt64(time) { return "signature expired" }
        // A revocation counts even when made with SHA-1 or by a key too weak for anything else: refusing
        // it would only keep a key someone wanted dead looking alive.
        if !isRevocation {
            if let reason = policy.rejection(of: signature.hashAlgorithm, madeAt: created) { return reason }
            if let reason = policy.rejection(of: signer) { return reason }
            if let reason = policy.rejection(of: signature.hashAlgorithm, for: signer) { return reason }
        } else if signature.hashAlgorithm == .md5 {
            return "MD5 is not accepted"
        }
        guard signature.publicKeyAlgorithm == signer.algorithm else { return "made with another algorithm than the key's" }
        if signer.version == 6 {
            guard signature.version == 6 else { return "a v6 key's signature must be v6" }
            guard signature.salt.count == OpenPGPPolicy.saltSize(for: signature.hashAlgorithm) else { return "salt of the wrong size" }
        } else if signature.version != 4 {
            return "a v4 key's signature must be v4"
        }
        guard let digest = digest(of: signature, over: context) else { return "\(signature.hashAlgorithm) is not available" }
        guard Array(digest.prefix(2)) == signature.digestPrefix else { return "digest does not match" }
        guard prepared().verify(hash: signature.hashAlgorithm, digest: digest, values: signature.values) else {
            return "signature does not verify"
        }
        return nil
    }

    static func digest(of signature: SignaturePacket, over context: Context) -> [UInt8]? {
        guard var digest = Digest(signature.hashAlgorithm) else { return nil }
        if signature.version == 6 { digest.update(signature.salt) }
        // RFC 9580 §5.2.4: the signature's version (not the key's) decides how a key is framed.
        let version = signature.version
        switch context {
        case .key(let primary):
            digest.update(primary.hashPrefix(forSignatureVersion: version))
            digest.update(primary.body)
        case .userID(let primary, let value):
            digest.update(primary.hashPrefix(forSignatureVersion: version))
            digest.update(primary.body)
            digest.update([0xB4] + bigEndian32(value.count))
            digest.update(value)
        case .userAttribute(let primary, let value):
            digest.update(primary.hashPrefix(forSignatureVersion: version))
            digest.update(primary.body)
            digest.update([0xD1] + bigEndian32(value.count))
            digest.update(value)
        case .subkey(let primary, let subkey):
            digest.update(primary.hashPrefix(forSignatureVersion: version))
            digest.update(primary.body)
            digest.update(subkey.hashPrefix(forSignatureVersion: version))
            digest.update(subkey.body)
        }
        digest.update(signature.hashedPart)
        digest.update([signature.version, 0xFF] + bigEndian32(signature.hashedPart.count))
        return digest.finalize()
    }

    static func bigEndian32(_ value: Int) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
