/// Which algorithms and sizes Palisade accepts in signatures and keys, after Sequoia's standard policy.
///
/// - MD5 and RIPEMD-160 are never accepted.
/// - SHA-1 is accepted only in signatures made before 2023-02-01 (Sequoia's cut-off for signatures
///   over data the signer controls, such as self-signatures), so old certificates stay readable while
///   no new SHA-1 signature is trusted.
/// - RSA, DSA and Elgamal keys under 2048 bits are not used: their signatures are invalid and such
///   subkeys are dropped.
/// - A v6 key's signatures must be v6, and a v6 signature's salt must have its hash's size (RFC 9580 §9.5).
public struct OpenPGPPolicy: Sendable {
    public var sha1Cutoff: UInt32
    public var minimumFiniteFieldBits: Int

    public init(sha1Cutoff: UInt32 = 1_675_209_600, minimumFiniteFieldBits: Int = 2048) {
        self.sha1Cutoff = sha1Cutoff
        self.minimumFiniteFieldBits = minimumFiniteFieldBits
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
            return key.bits < minimumFiniteFieldBits ? "\(key.algorithm) key of \(key.bits) bits is too short (at least \(minimumFiniteFieldBits))" : nil
        case .unknown(let id):
            return "public-key algorithm \(id) is unknown"
        default:
            if case .ecdsa(.unknown, _) = key.material { return "unknown elliptic curve" }
            if case .ecdh(.unknown, _, _) = key.material { return "unknown elliptic curve" }
            return nil
        }
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
