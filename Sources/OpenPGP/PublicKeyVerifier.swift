import COpenSSL
import Glibc

/// A public key made ready for OpenSSL once, then used for every signature it made: the only place in
/// `OpenPGP` that builds OpenSSL keys. The EVP key is freed with this object.
///
/// What is verified is what RFC 9580 §5.2.4 signs: the digest of the hashed data. RSA uses PKCS #1 v1.5
/// with the digest's algorithm identifier, DSA and ECDSA the (r, s) pair, EdDSA (legacy and native)
/// the digest as the message. Not Sendable: one validation uses it, on one thread.
final class VerificationKey {
    private enum Kind {
        case rsa(modulusBytes: Int)
        case dsaOrECDSA
        case eddsaLegacy
        case eddsa(signatureSize: Int)
        case unusable
    }

    private let pkey: OpaquePointer?
    private let kind: Kind

    init(_ key: PublicKeyPacket) {
        switch key.material {
        case .rsa(let n, let e):
            pkey = PublicKeyVerifier.fromData("RSA", [("n", .bignum(n)), ("e", .bignum(e))])
            kind = .rsa(modulusBytes: n.drop { $0 == 0 }.count)
        case .dsa(let p, let q, let g, let y):
            pkey = PublicKeyVerifier.fromData("DSA", [("p", .bignum(p)), ("q", .bignum(q)), ("g", .bignum(g)), ("pub", .bignum(y))])
            kind = .dsaOrECDSA
        case .ecdsa(let curve, let point):
            pkey = curve.openSSLGroup.flatMap { PublicKeyVerifier.fromData("EC", [("group", .text($0)), ("pub", .octets(point))]) }
            kind = .dsaOrECDSA
        case .eddsaLegacy(let curve, let point):
            // RFC 9580 §5.5.5.5: the point is 0x40 followed by the 32-byte native key.
            if curve == .ed25519Legacy, point.count == 33, point[0] == 0x40 {
                pkey = PublicKeyVerifier.rawKey(EVP_PKEY_ED25519, Array(point.dropFirst()))
            } else {
                pkey = nil
            }
            kind = .eddsaLegacy
        case .native(let raw) where key.algorithm == .ed25519:
            pkey = PublicKeyVerifier.rawKey(EVP_PKEY_ED25519, raw)
            kind = .eddsa(signatureSize: 64)
        case .native(let raw) where key.algorithm == .ed448:
            pkey = PublicKeyVerifier.rawKey(EVP_PKEY_ED448, raw)
            kind = .eddsa(signatureSize: 114)
        default:
            pkey = nil
            kind = .unusable
        }
    }

    deinit { if let pkey { EVP_PKEY_free(pkey) } }

    func verify(hash: HashAlgorithm, digest: [UInt8], values: [[UInt8]]) -> Bool {
        guard let pkey else { return false }
        switch kind {
        case .rsa(let modulusBytes):
            guard values.count == 1, let name = hash.openSSLName, let md = EVP_get_digestbyname(name) else { return false }
            // The signature is an MPI: leading zeros are dropped, so pad it back to the modulus size.
            guard values[0].count <= modulusBytes else { return false }
            let signature = [UInt8](repeating: 0, count: modulusBytes - values[0].count) + values[0]
            guard let context = EVP_PKEY_CTX_new(pkey, nil) else { return false }
            defer { EVP_PKEY_CTX_free(context) }
            guard EVP_PKEY_verify_init(context) == 1, EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1,
                  EVP_PKEY_CTX_set_signature_md(context, md) == 1 else { return false }
            let verified = EVP_PKEY_verify(context, signature, signature.count, digest, digest.count) == 1
            if !verified { ERR_clear_error() }
            return verified
        case .dsaOrECDSA:
            guard values.count == 2 else { return false }
            return PublicKeyVerifier.verifyDigest(pkey, signature: PublicKeyVerifier.derSignature(values[0], values[1]), digest: digest)
        case .eddsaLegacy:
            guard values.count == 2, values[0].count <= 32, values[1].count <= 32 else { return false }
            let signature = [UInt8](repeating: 0, count: 32 - values[0].count) + values[0] + [UInt8](repeating: 0, count: 32 - values[1].count) + values[1]
            return PublicKeyVerifier.verifyEdDSA(pkey, signature: signature, message: digest)
        case .eddsa(let size):
            guard values.count == 1, values[0].count == size else { return false }
            return PublicKeyVerifier.verifyEdDSA(pkey, signature: values[0], message: digest)
        case .unusable:
            return false
        }
    }
}

/// The OpenSSL calls behind `VerificationKey`; every pointer made here is freed before returning,
/// except the EVP keys handed to `VerificationKey`.
enum PublicKeyVerifier {
    enum Parameter {
        case bignum([UInt8])
        case octets([UInt8])
        case text(String)
    }

    /// An EVP public key of `type` ("RSA", "DSA", "EC") from named parameters.
    ///
    /// `OSSL_PARAM_BLD` keeps the pointers it is given (names and string values) until
    /// `OSSL_PARAM_BLD_to_param` copies them, so every one is a C copy that lives until then.
    static func fromData(_ type: String, _ parameters: [(String, Parameter)]) -> OpaquePointer? {
        guard let builder = OSSL_PARAM_BLD_new() else { return nil }
        defer { OSSL_PARAM_BLD_free(builder) }
        var numbers: [OpaquePointer] = []
        var buffers: [UnsafeMutableRawPointer] = []
        defer {
            numbers.forEach { BN_free($0) }
            buffers.forEach { free($0) }
        }
        func copy(_ bytes: [UInt8], terminated: Bool) -> UnsafeMutableRawPointer? {
            guard let buffer = malloc(bytes.count + (terminated ? 1 : 0) + 1) else { return nil }
            buffers.append(buffer)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            buffer.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
            return buffer
        }
        for (name, value) in parameters {
            guard let key = copy(Array(name.utf8), terminated: true)?.assumingMemoryBound(to: CChar.self) else { return nil }
            switch value {
            case .bignum(let bytes):
                guard let number = BN_bin2bn(bytes, Int32(bytes.count), nil) else { return nil }
                numbers.append(number)
                guard OSSL_PARAM_BLD_push_BN(builder, key, number) == 1 else { return nil }
            case .octets(let bytes):
                guard let data = copy(bytes, terminated: false), OSSL_PARAM_BLD_push_octet_string(builder, key, data, bytes.count) == 1 else { return nil }
            case .text(let text):
                guard let data = copy(Array(text.utf8), terminated: true),
                      OSSL_PARAM_BLD_push_utf8_string(builder, key, data.assumingMemoryBound(to: CChar.self), 0) == 1 else { return nil }
            }
        }
        guard let params = OSSL_PARAM_BLD_to_param(builder) else { return nil }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1, EVP_PKEY_fromdata(context, &pkey, PALISADE_EVP_PKEY_PUBLIC_KEY, params) == 1 else {
            ERR_clear_error()
            return nil
        }
        return pkey
    }

    static func rawKey(_ type: Int32, _ key: [UInt8]) -> OpaquePointer? {
        let pkey = EVP_PKEY_new_raw_public_key(type, nil, key, key.count)
        if pkey == nil { ERR_clear_error() }
        return pkey
    }

    static func verifyDigest(_ pkey: OpaquePointer, signature: [UInt8], digest: [UInt8]) -> Bool {
        guard let context = EVP_PKEY_CTX_new(pkey, nil) else { return false }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_verify_init(context) == 1 else { return false }
        let result = EVP_PKEY_verify(context, signature, signature.count, digest, digest.count) == 1
        if !result { ERR_clear_error() }
        return result
    }

    static func verifyEdDSA(_ pkey: OpaquePointer, signature: [UInt8], message: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, pkey) == 1 else { return false }
        let result = EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
        if !result { ERR_clear_error() }
        return result
    }

    /// DER `SEQUENCE { INTEGER r, INTEGER s }` for DSA and ECDSA.
    static func derSignature(_ r: [UInt8], _ s: [UInt8]) -> [UInt8] {
        func integer(_ bytes: [UInt8]) -> [UInt8] {
            var value = Array(bytes.drop { $0 == 0 })
            if value.isEmpty { value = [0] }
            if value[0] & 0x80 != 0 { value.insert(0, at: 0) }
            return [0x02] + length(value.count) + value
        }
        func length(_ count: Int) -> [UInt8] {
            if count < 128 { return [UInt8(count)] }
            if count < 256 { return [0x81, UInt8(count)] }
            return [0x82, UInt8(count >> 8), UInt8(count & 0xFF)]
        }
        let content = integer(r) + integer(s)
        return [0x30] + length(content.count) + content
    }
}
