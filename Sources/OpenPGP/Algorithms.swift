/// Public-key algorithm IDs (RFC 9580 §9.1).
public enum PublicKeyAlgorithm: Sendable, Equatable, Hashable, CustomStringConvertible {
    case rsa, rsaEncryptOnly, rsaSignOnly, elgamal, dsa, ecdh, ecdsa, eddsaLegacy, x25519, x448, ed25519, ed448
    case unknown(UInt8)

    public init(_ id: UInt8) {
        switch id {
        case 1: self = .rsa
        case 2: self = .rsaEncryptOnly
        case 3: self = .rsaSignOnly
        case 16: self = .elgamal
        case 17: self = .dsa
        case 18: self = .ecdh
        case 19: self = .ecdsa
        case 22: self = .eddsaLegacy
        case 25: self = .x25519
        case 26: self = .x448
        case 27: self = .ed25519
        case 28: self = .ed448
        default: self = .unknown(id)
        }
    }

    public var id: UInt8 {
        switch self {
        case .rsa: 1
        case .rsaEncryptOnly: 2
        case .rsaSignOnly: 3
        case .elgamal: 16
        case .dsa: 17
        case .ecdh: 18
        case .ecdsa: 19
        case .eddsaLegacy: 22
        case .x25519: 25
        case .x448: 26
        case .ed25519: 27
        case .ed448: 28
        case .unknown(let id): id
        }
    }

    /// Whether keys of this algorithm can make signatures.
    public var canSign: Bool {
        switch self {
        case .rsa, .rsaSignOnly, .dsa, .ecdsa, .eddsaLegacy, .ed25519, .ed448: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .rsa: "RSA"
        case .rsaEncryptOnly: "RSA (encrypt only)"
        case .rsaSignOnly: "RSA (sign only)"
        case .elgamal: "Elgamal"
        case .dsa: "DSA"
        case .ecdh: "ECDH"
        case .ecdsa: "ECDSA"
        case .eddsaLegacy: "EdDSA (legacy)"
        case .x25519: "X25519"
        case .x448: "X448"
        case .ed25519: "Ed25519"
        case .ed448: "Ed448"
        case .unknown(let id): "algorithm \(id)"
        }
    }
}

/// Hash algorithm IDs (RFC 9580 §9.5).
public enum HashAlgorithm: Sendable, Equatable, Hashable, CustomStringConvertible {
    case md5, sha1, ripemd160, sha256, sha384, sha512, sha224, sha3_256, sha3_512
    case unknown(UInt8)

    public init(_ id: UInt8) {
        switch id {
        case 1: self = .md5
        case 2: self = .sha1
        case 3: self = .ripemd160
        case 8: self = .sha256
        case 9: self = .sha384
        case 10: self = .sha512
        case 11: self = .sha224
        case 12: self = .sha3_256
        case 14: self = .sha3_512
        default: self = .unknown(id)
        }
    }

    public var id: UInt8 {
        switch self {
        case .md5: 1
        case .sha1: 2
        case .ripemd160: 3
        case .sha256: 8
        case .sha384: 9
        case .sha512: 10
        case .sha224: 11
        case .sha3_256: 12
        case .sha3_512: 14
        case .unknown(let id): id
        }
    }

    /// Digest size in bits.
    public var bits: Int? {
        switch self {
        case .md5: 128
        case .sha1, .ripemd160: 160
        case .sha224: 224
        case .sha256, .sha3_256: 256
        case .sha384: 384
        case .sha512, .sha3_512: 512
        case .unknown: nil
        }
    }

    /// The OpenSSL digest name, for hashes OpenSSL 3 offers by default.
    var openSSLName: String? {
        switch self {
        case .md5: "MD5"
        case .sha1: "SHA1"
        case .ripemd160: nil
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        case .sha224: "SHA224"
        case .sha3_256: "SHA3-256"
        case .sha3_512: "SHA3-512"
        case .unknown: nil
        }
    }

    public var description: String {
        switch self {
        case .md5: "MD5"
        case .sha1: "SHA-1"
        case .ripemd160: "RIPEMD-160"
        case .sha256: "SHA-256"
        case .sha384: "SHA-384"
        case .sha512: "SHA-512"
        case .sha224: "SHA-224"
        case .sha3_256: "SHA3-256"
        case .sha3_512: "SHA3-512"
        case .unknown(let id): "hash \(id)"
        }
    }
}

/// The elliptic curves of RFC 9580 §9.2, by the OID a key packet names.
public enum Curve: Sendable, Equatable, Hashable, CustomStringConvertible {
    case p256, p384, p521, ed25519Legacy, curve25519Legacy, brainpoolP256, brainpoolP384, brainpoolP512
    case unknown([UInt8])

    public init(oid: [UInt8]) {
        switch oid {
        case [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]: self = .p256
        case [0x2B, 0x81, 0x04, 0x00, 0x22]: self = .p384
        case [0x2B, 0x81, 0x04, 0x00, 0x23]: self = .p521
        case [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01]: self = .ed25519Legacy
        case [0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01]: self = .curve25519Legacy
        case [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07]: self = .brainpoolP256
        case [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0B]: self = .brainpoolP384
        case [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0D]: self = .brainpoolP512
        default: self = .unknown(oid)
        }
    }

    /// The OpenSSL group name for ECDSA/ECDH curves.
    var openSSLGroup: String? {
        switch self {
        case .p256: "prime256v1"
        case .p384: "secp384r1"
        case .p521: "secp521r1"
        case .brainpoolP256: "brainpoolP256r1"
        case .brainpoolP384: "brainpoolP384r1"
        case .brainpoolP512: "brainpoolP512r1"
        default: nil
        }
    }

    /// Bits of security-relevant size, for the key-strength policy.
    public var bits: Int {
        switch self {
        case .p256, .brainpoolP256, .ed25519Legacy, .curve25519Legacy: 256
        case .p384, .brainpoolP384: 384
        case .p521: 521
        case .brainpoolP512: 512
        case .unknown: 0
        }
    }

    public var description: String {
        switch self {
        case .p256: "NIST P-256"
        case .p384: "NIST P-384"
        case .p521: "NIST P-521"
        case .ed25519Legacy: "Ed25519 (legacy OID)"
        case .curve25519Legacy: "Curve25519 (legacy OID)"
        case .brainpoolP256: "brainpoolP256r1"
        case .brainpoolP384: "brainpoolP384r1"
        case .brainpoolP512: "brainpoolP512r1"
        case .unknown: "unknown curve"
        }
    }
}
