/// Which algorithms and sizes Palisade accepts in signatures and keys, after Sequoia's standard policy.
///
/// - MD5 and RIPEMD-160 are never accepted.
/// - SHA-1 is accepted only in signatures made before 2023-02-01 (Sequoia's cut-off for signatures
///   over data the signer controls, such as self-signatures), so old certificates stay readable while
///   no new SHA-1 signature is trusted.
/// - RSA, DSA and Elgamal keys under 2048 bits are not used: their signatures are invalid and such
///   subkeys are dropped.
/// - A v6 key's signatures must be v6, and a v6 signature's salt must have its hash's size (RFC 9580 §9.5).
/// - The hash must be at least as strong as the key: the curve size for ECDSA (SHA-512 for P-521), 256
///   bits for EdDSA and Ed25519, 512 for Ed448 (RFC 9580 §5.2.3.2–3).
/// - So that a hostile upload costs little, RSA moduli over 8192 bits or exponents over 2^32, and DSA or
///   Elgamal primes over 3072 bits are refused, and at most `maximumSignaturesPerComponent` signatures
///   (the newest) are checked per User ID, subkey or primary key.
/// - Signatures dated up to `clockSkew` ahead are accepted (a client's clock may run fast).
/// - Revocations are judged leniently: SHA-1 and weak keys do not stop a revocation from counting.
public struct OpenPGPPolicy: Sendable {
    public var sha1Cutoff: UInt32
    public var minimumFiniteFieldBits: Int
    public var maximumSignaturesPerComponent: Int
    public var clockSkew: UInt32

    public init(sha1Cutoff: UInt32 = 1_675_209_600, minimumFiniteFieldBits: Int = 2048, maximumSignaturesPerComponent: Int = 32,
                clockSkew: UInt32 = 1800) {
        self.sha1Cutoff = sha1Cutoff
        self.minimumFiniteFieldBits = minimumFiniteFieldBits
        self.maximumSignaturesPerComponent = maximumSignaturesPerComponent
        self.clockSkew = clockSkew
    }

    public static let standard = OpenPGPPolicy()

    /// Why `hash` is refused for a signature made at `time`, or nil.
    func rejection(of hash: HashAlgorithm, madeAt time: UInt32) -> String? {
        switch hash {
        case .sha256, .sha384, .sha512, .sha224, .sha3_256, .sha3_512: return nil
        case .sha1: return time < sha1Cutoff ? nil : "SHA-1 signature made after 2023-02-01"
        default: return "\(hash) is not accepted"
        }
    }

    /// Why `key` is too weak to use, or nil.
    func rejection(of key: PublicKeyPacket) -> String? {
        switch key.algorithm {
        case .rsa, .rsaSignOnly, .rsaEncryptOnly, .dsa, .elgamal:
            if key.bits < minimumFiniteFieldBits { return "\(key.algorithm) key of \(key.bits) bits is too short (at least \(minimumFiniteFieldBits))" }
            if case .rsa(_, let e) = key.material {
                if key.bits > 8192 { return "RSA key of \(key.bits) bits is larger than 8192" }
                if e.drop(while: { $0 == 0 }).count > 4 { return "RSA public exponent is larger than 2^32" }
            } else if key.bits > 3072 {
                return "\(key.algorithm) key of \(key.bits) bits is larger than 3072"
            }
            return nil
        case .unknown(let id):
            return "public-key algorithm \(id) is unknown"
        case .eddsaLegacy where key.version == 6:
            return "legacy EdDSA is not allowed in a v6 key (RFC 9580 §5.5.5.5)"
        case .ecdh where key.version == 6:
            if case .ecdh(.curve25519Legacy, _, _) = key.material { return "legacy Curve25519 is not allowed in a v6 key (RFC 9580 §5.5.5.6)" }
            return nil
        default:
            if case .ecdsa(.unknown, _) = key.material { return "unknown elliptic curve" }
            if case .ecdh(.unknown, _, _) = key.material { return "unknown elliptic curve" }
            return nil
        }
    }

    /// Why `hash` is too weak for `key`, or nil.
    func rejection(of hash: HashAlgorithm, for key: PublicKeyPacket) -> String? {
        let needed: Int
        switch key.material {
        case .ecdsa(let curve, _): needed = curve == .p521 ? 512 : curve.bits
        case .eddsaLegacy: needed = 256
        case .native: needed = key.algorithm == .ed448 ? 512 : 256
        default: return nil
        }
        guard let bits = hash.bits, bits >= needed else { return "\(hash) is too weak for \(key.algorithm) (needs \(needed) bits)" }
        return nil
    }

    /// The salt size RFC 9580 §9.5 fixes for a v6 signature's hash.
    static func saltSize(for hash: HashAlgorithm) -> Int? {
        switch hash {
        case .sha256, .sha224, .sha3_256: 16
        case .sha384: 24
        case .sha512, .sha3_512: 32
        default: nil
        }
    }
}
