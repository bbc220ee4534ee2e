/// Why a report was refused: what is wrong, said so a reporter's operator (or ours) can act on it.
/// `kind` is a stable word for metrics, HTTP statuses and exit codes.
public struct TLSReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// Over `tlsrpt.maxCompressedSize` or `tlsrpt.maxReportSize`, before or after decompression.
        case tooLarge = "too_large"
        /// Not gzip although it says so, or a truncated or corrupt stream.
        case badCompression = "bad_compression"
        /// Not JSON, or JSON that does not follow RFC 8460's schema.
        case invalid
        /// A policy domain that is not one of ours.
        case foreignDomain = "foreign_domain"
        /// A media type other than the two RFC 8460 registers, or a mail without a report in it.
        case unsupportedMediaType = "unsupported_media_type"
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func schema(_ path: String, _ problem: String) -> TLSReportError {
        TLSReportError(.invalid, "\(path): \(problem)")
    }
}
