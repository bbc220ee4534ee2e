import CCurl
import DNS
import Foundation

/// What an SMTP server presented after STARTTLS (RFC 3207): the certificate chain, leaf first, for
/// the caller to match against TLSA records (RFC 7672) or to show the operator.
public struct SMTPStartTLSProbe: Sendable {
    public let host: String
    public let address: IPAddress
    public let port: Int
    public let chain: [PeerCertificate]
}

extension HTTPFetcher {
    /// Connects to `host` at exactly `address`, says EHLO as `heloName`, requires STARTTLS, completes
    /// the TLS handshake (OpenSSL, through libcurl, with SNI `host`), sends NOOP and QUIT, and returns the
    /// chain the server presented. The certificate is not judged here. A server that does not offer
    /// STARTTLS, refuses it or fails the handshake is an `HTTPFetchError` saying so.
    public func probeSMTPStartTLS(host: String, address: IPAddress, port: Int = 25, heloName: String,
                                  timeout: Duration? = nil) async throws -> SMTPStartTLSProbe {
        let timeout = timeout ?? configuration.timeout
        let literal = address.isIPv6 ? "[\(address)]" : "\(address)"
        let spec = CurlTransferSpec(
            url: "smtp://\(host):\(port)/\(heloName)", method: .get, headers: [], body: [],
            pinnedAddresses: "\(host):\(port):\(literal)", allowedAddresses: [address.bytes],
            caFile: nil, userAgent: configuration.userAgent,
            connectTimeout: min(configuration.connectTimeout, timeout), timeout: timeout, maxBodySize: 4096,
            smtpProbe: true
        )
        let outcome = try await perform(spec)
        switch outcome.code {
        case CURLE_OK:
            break
        case CURLE_USE_SSL_FAILED:
            throw HTTPFetchError.tlsFailure(host: host, problem: .handshakeFailed("the server does not offer STARTTLS"))
        case CURLE_COULDNT_CONNECT:
            throw HTTPFetchError.connectFailed(host: host, reason: "\(outcome.message) (address: \(literal), port \(port))")
        case CURLE_OPERATION_TIMEDOUT:
            throw HTTPFetchError.timedOut(after: timeout)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CIPHER:
            throw HTTPFetchError.tlsFailure(host: host, problem: .handshakeFailed(outcome.message))
        default:
            // The chain may have been read before a later SMTP step failed: it is what was asked for.
            guard !outcome.certificates.isEmpty else { throw HTTPFetchError.transferFailed(outcome.message) }
        }
        guard !outcome.certificates.isEmpty else {
            throw HTTPFetchError.tlsFailure(host: host, problem: .handshakeFailed("the server presented no certificate"))
        }
        var chain: [PeerCertificate] = []
        for pem in outcome.certificates {
            do {
                chain.append(try PeerCertificate(pem: pem))
            } catch {
                throw HTTPFetchError.tlsFailure(host: host, problem: .other("a presented certificate cannot be read: \(error)"))
            }
        }
        return SMTPStartTLSProbe(host: host, address: address, port: port, chain: chain)
    }
}
