import COpenSSL
import CPalisadeShims
import Foundation

/// A certificate a server presented, read with OpenSSL: the parts DANE (RFC 6698 §2.1) matches against
/// (the whole certificate and its SubjectPublicKeyInfo) and what an operator recognises it by. The only
/// place in `HTTPFetch` besides the curl wrapper that touches C pointers.
public struct PeerCertificate: Sendable, Equatable {
    /// The certificate, DER.
    public let der: [UInt8]
    /// Its SubjectPublicKeyInfo, DER (TLSA selector 1).
    public let subjectPublicKeyInfo: [UInt8]
    /// The subject, one line (OpenSSL's RFC 2253 form).
    public let subject: String
    public let notAfter: Date

    /// A certificate longer than this is refused (real ones are a few KiB).
    public static let maximumSize = 64 * 1024

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads one DER certificate.
    public init(der: [UInt8]) throws(Invalid) {
        guard !der.isEmpty, der.count <= Self.maximumSize else { throw Invalid(description: "a certificate must be 1 to \(Self.maximumSize) bytes") }
        let (parsed, consumed): (OpaquePointer?, Int) = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let certificate = d2i_X509(nil, &cursor, buffer.count)
            return (certificate, cursor.map { $0 - buffer.baseAddress! } ?? 0)
        }
        guard let certificate = parsed else { throw Invalid(description: "not a DER X.509 certificate") }
        defer { X509_free(certificate) }
        // TLSA selector 0 hashes exactly the certificate: nothing may follow it.
        guard consumed == der.count else { throw Invalid(description: "\(der.count - consumed) bytes follow the certificate") }
        var spki: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &spki)
        guard length > 0, let spki else { throw Invalid(description: "the certificate's public key cannot be encoded") }
        defer { palisade_openssl_free(spki) }
        subjectPublicKeyInfo = Array(UnsafeBufferPointer(start: spki, count: Int(length)))
        self.der = der
        subject = Self.oneLine(X509_get_subject_name(certificate))
        var time = tm()
        guard let notAfter = X509_get0_notAfter(certificate), ASN1_TIME_to_tm(notAfter, &time) == 1 else {
            throw Invalid(description: "the certificate's notAfter cannot be read")
        }
        self.notAfter = Date(timeIntervalSince1970: TimeInterval(timegm(&time)))
    }

    /// Whether `self` (a server's certificate) chains to `anchor` through `intermediates` and names
    /// `host`, by OpenSSL's verifier with `anchor` as the only trust anchor (an intermediate may be one:
    /// partial chains allowed), dates checked: what DANE-TA(2) asks (RFC 7672 §3.1.2, §3.2.2). nil when it
    /// does, else OpenSSL's reason.
    public func verificationFailure(anchor: PeerCertificate, intermediates: [PeerCertificate], host: String) -> String? {
        func load(_ certificate: PeerCertificate) -> OpaquePointer? {
            certificate.der.withUnsafeBufferPointer { buffer in
                var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
                return d2i_X509(nil, &cursor, buffer.count)
            }
        }
        guard let store = X509_STORE_new() else { return "OpenSSL could not make a certificate store" }
        defer { X509_STORE_free(store) }
        guard let leaf = load(self), let trusted = load(anchor) else { return "a certificate cannot be read" }
        defer { X509_free(leaf); X509_free(trusted) }
        guard X509_STORE_add_cert(store, trusted) == 1 else { return "the trust anchor cannot be used" }
        guard let untrusted = OPENSSL_sk_new_null() else { return "OpenSSL could not make a stack" }
        var loaded: [OpaquePointer] = []
        defer {
            OPENSSL_sk_free(untrusted)
            loaded.forEach { X509_free($0) }
        }
        for certificate in intermediates.prefix(16) {
            guard let x509 = load(certificate) else { return "a certificate cannot be read" }
            loaded.append(x509)
            _ = OPENSSL_sk_push(untrusted, UnsafeRawPointer(x509))
        }
        guard let context = X509_STORE_CTX_new() else { return "OpenSSL could not make a verification context" }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf, untrusted) == 1 else { return "OpenSSL could not start verification" }
        let parameters = X509_STORE_CTX_get0_param(context)
        _ = X509_VERIFY_PARAM_set_flags(parameters, UInt(X509_V_FLAG_PARTIAL_CHAIN))
        guard X509_VERIFY_PARAM_set1_host(parameters, host, host.utf8.count) == 1 else { return "the host name cannot be checked" }
        guard X509_verify_cert(context) == 1 else {
            return String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(context))))
        }
        return nil
    }

    /// Reads the first certificate of a PEM text (`-----BEGIN CERTIFICATE-----` … `-----END CERTIFICATE-----`).
    public init(pem: String) throws(Invalid) {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN CERTIFICATE-----"),
              let end = lines[begin...].firstIndex(of: "-----END CERTIFICATE-----"),
              let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else {
            throw Invalid(description: "no PEM certificate found")
        }
        try self.init(der: Array(der))
    }

    /// Every certificate of a PEM file (a chain, as certbot's fullchain.pem holds), in order.
    public static func chain(pem: String) throws(Invalid) -> [PeerCertificate] {
        var chain: [PeerCertificate] = []
        var rest = Substring(pem)
        while let start = rest.range(of: "-----BEGIN CERTIFICATE-----"), let end = rest.range(of: "-----END CERTIFICATE-----", range: start.upperBound..<rest.endIndex) {
            chain.append(try PeerCertificate(pem: String(rest[start.lowerBound..<end.upperBound])))
            rest = rest[end.upperBound...]
            guard chain.count < 16 else { break }
        }
        guard !chain.isEmpty else { throw Invalid(description: "no PEM certificate found") }
        return chain
    }

    private static func oneLine(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, PALISADE_XN_FLAG_RFC2253) >= 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: 1024)
        let read = BIO_read(bio, &bytes, Int32(bytes.count))
        return read > 0 ? String(decoding: bytes.prefix(Int(read)), as: UTF8.self) : ""
    }
}

/// SHA-2 digests over OpenSSL, for TLSA matching types 1 and 2 (RFC 6698 §2.1.3) and content ids.
public enum SHA2 {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha256()) }
    public static func sha512(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha512()) }

    private static func digest(_ bytes: [UInt8], _ md: OpaquePointer?) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBufferPointer { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &output, &length, md, nil)
        }
        precondition(ok == 1, "OpenSSL's SHA-2 failed")
        return Array(output.prefix(Int(length)))
    }
}
