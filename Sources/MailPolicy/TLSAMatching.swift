import DNS
import HTTPFetch

/// Whether a TLSA record (RFC 6698) matches the certificate chain an SMTP server presented, by the
/// rules of DANE for SMTP (RFC 7672 §3.1): DANE-EE(3) matches the server's own certificate, names and
/// dates not considered; DANE-TA(2) matches a trust anchor the server includes in its chain (not the leaf),
/// and the leaf must then verify up to it and name the host (§3.2.2). PKIX-TA(0) and PKIX-EE(1) are not
/// for SMTP (RFC 7672 §3.1.3) and never match here.
public enum TLSAMatching {
    public enum Result: Sendable, Equatable {
        case matches(PeerCertificate)
        case noMatch
        /// A DANE-TA record matches a certificate of the chain, but the leaf does not verify up to it or
        /// does not name the host: OpenSSL's reason.
        case anchorDoesNotVerify(String)
        /// The record cannot be used for SMTP: a PKIX usage, or an unknown selector or matching type.
        case unusable(String)
    }

    /// `host` is the MX host name, which a DANE-TA chain's leaf must name.
    public static func match(_ record: TLSARecord, chain: [PeerCertificate], host: String) -> Result {
        let candidates: ArraySlice<PeerCertificate>
        switch record.usage {
        case 3: candidates = chain.prefix(1)
        case 2: candidates = chain.dropFirst()
        case 0, 1: return .unusable("usage \(record.usage) (PKIX) is not for SMTP (RFC 7672 section 3.1.3)")
        default: return .unusable("usage \(record.usage) is not defined")
        }
        guard record.selector <= 1 else { return .unusable("selector \(record.selector) is not defined") }
        guard record.matchingType <= 2 else { return .unusable("matching type \(record.matchingType) is not defined") }
        guard let matched = candidates.first(where: { data(of: $0, selector: record.selector, matchingType: record.matchingType) == record.data }) else {
            return .noMatch
        }
        if record.usage == 2, let leaf = chain.first,
           let failure = leaf.verificationFailure(anchor: matched, intermediates: Array(chain.dropFirst()), host: host) {
            return .anchorDoesNotVerify(failure)
        }
        return .matches(matched)
    }

    /// The association data a record with `selector` and `matchingType` would carry for `certificate`.
    public static func data(of certificate: PeerCertificate, selector: UInt8, matchingType: UInt8) -> [UInt8] {
        let selected = selector == 0 ? certificate.der : certificate.subjectPublicKeyInfo
        switch matchingType {
        case 1: return SHA2.sha256(selected)
        case 2: return SHA2.sha512(selected)
        default: return selected
        }
    }
}
