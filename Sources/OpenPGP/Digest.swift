import COpenSSL

/// Message digests over OpenSSL's EVP interface: the only place in `OpenPGP`'s hashing that touches C
/// pointers. A `Digest` is used by one caller at a time (it is a value holding its own EVP context).
struct Digest: ~Copyable {
    private let context: OpaquePointer

    /// nil when OpenSSL does not offer the algorithm (RIPEMD-160 lives in OpenSSL 3's legacy provider).
    init?(_ algorithm: HashAlgorithm) {
        guard let name = algorithm.openSSLName, let md = EVP_get_digestbyname(name), let context = EVP_MD_CTX_new() else { return nil }
        guard EVP_DigestInit_ex(context, md, nil) == 1 else {
            EVP_MD_CTX_free(context)
            return nil
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            _ = EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
        }
    }

    consuming func finalize() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &output, &length)
        return Array(output.prefix(Int(length)))
    }

    /// The digest of `parts` concatenated.
    static func hash(_ algorithm: HashAlgorithm, _ parts: [UInt8]...) -> [UInt8]? {
        guard var digest = Digest(algorithm) else { return nil }
        for part in parts { digest.update(part) }
        return digest.finalize()
    }
}

/// SHA-256 for the libraries beside OpenPGP (the WKD publisher's ETags), without their own OpenSSL binding.
public enum MessageDigest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Digest.hash(.sha256, bytes)!
    }
}
