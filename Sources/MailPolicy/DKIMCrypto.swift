import COpenSSL

/// The signature checks DKIM needs, over OpenSSL's EVP interface: RSASSA-PKCS1-v1_5 with SHA-256
/// (RFC 6376 §3.3.1) and Ed25519 over the SHA-256 hash (RFC 8463 §3). The only place in `MailPolicy`
/// that touches C pointers.
enum DKIMCrypto {
    /// The RSA modulus size in bits of a SubjectPublicKeyInfo (or a bare RSAPublicKey, which some
    /// publish), nil when it is not an RSA key.
    static func rsaBits(_ key: [UInt8]) -> Int? {
        guard let pkey = rsaKey(key) else { return nil }
        defer { EVP_PKEY_free(pkey) }
        return Int(EVP_PKEY_get_bits(pkey))
    }

    static func verifyRSASHA256(key: [UInt8], data: [UInt8], signature: [UInt8]) -> Bool {
        guard let pkey = rsaKey(key) else { return false }
        defer { EVP_PKEY_free(pkey) }
        return verify(pkey, digest: EVP_sha256(), data: data, signature: signature)
    }

    static func verifyEd25519(key: [UInt8], data: [UInt8], signature: [UInt8]) -> Bool {
        guard key.count == 32, let pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, key, key.count) else { return false }
        defer { EVP_PKEY_free(pkey) }
        return verify(pkey, digest: nil, data: data, signature: signature)
    }

    private static func rsaKey(_ key: [UInt8]) -> OpaquePointer? {
        let parsed: OpaquePointer? = key.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        } ?? key.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PublicKey(EVP_PKEY_RSA, nil, &cursor, buffer.count)
        }
        guard let parsed else { return nil }
        guard EVP_PKEY_get_base_id(parsed) == EVP_PKEY_RSA else {
            EVP_PKEY_free(parsed)
            return nil
        }
        return parsed
    }

    private static func verify(_ pkey: OpaquePointer, digest: OpaquePointer?, data: [UInt8], signature: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, digest, nil, pkey) == 1 else { return false }
        return EVP_DigestVerify(context, signature, signature.count, data, data.count) == 1
    }
}
