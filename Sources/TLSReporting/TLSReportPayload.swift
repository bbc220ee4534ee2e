import CompressNIO
import Foundation
import NIOCore

/// A report as it arrives (RFC 8460 §5.3): `application/tlsrpt+json`, or the same gzipped as
/// `application/tlsrpt+gzip`. Decoding bounds both sizes, so a gzip bomb stops at the limit instead of
/// filling memory.
public struct TLSReportPayload: Sendable {
    public enum Format: String, Sendable {
        case json
        case gzip

        /// The format of an RFC 8460 media type (parameters and case ignored); nil for any other.
        public init?(mediaType: String) {
            let essence = mediaType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            switch essence {
            case "application/tlsrpt+json": self = .json
            case "application/tlsrpt+gzip": self = .gzip
            default: return nil
            }
        }
    }

    /// Size limits (`tlsrpt.maxCompressedSize`, `tlsrpt.maxReportSize`).
    public struct Limits: Sendable, Equatable {
        public var compressed: Int
        public var json: Int

        public init(compressed: Int, json: Int) {
            self.compressed = compressed
            self.json = json
        }
    }

    public var format: Format
    public var bytes: [UInt8]

    public init(format: Format, bytes: [UInt8]) {
        self.format = format
        self.bytes = bytes
    }

    /// The report's JSON bytes: decompressed if gzipped, refused if either size is over its limit. A
    /// JSON body that is in fact gzipped (some senders label it so) is decompressed too.
    public func json(limits: Limits) throws(TLSReportError) -> [UInt8] {
        let gzipped = bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
        switch (format, gzipped) {
        case (.json, false):
            guard bytes.count <= limits.json else {
                throw TLSReportError(.tooLarge, "the report is \(bytes.count) bytes; at most \(limits.json) are accepted")
            }
            return bytes
        case (.gzip, false):
            throw TLSReportError(.badCompression, "the body is application/tlsrpt+gzip but not gzip (it does not start with 1f 8b)")
        case (_, true):
            guard bytes.count <= limits.compressed else {
                throw TLSReportError(.tooLarge, "the compressed report is \(bytes.count) bytes; at most \(limits.compressed) are accepted")
            }
            return try Self.gunzip(bytes, max: limits.json)
        }
    }

    static func gunzip(_ bytes: [UInt8], max: Int) throws(TLSReportError) -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        let output: ByteBuffer
        do {
            // Decompression stops with bufferOverflow as soon as the output would pass `max`: the bomb is
            // never inflated further.
            output = try input.decompress(with: .gzip(), maxSize: max + 1)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw TLSReportError(.tooLarge, "the report decompresses to more than \(max) bytes (a gzip bomb?)")
        } catch {
            throw TLSReportError(.badCompression, "the gzip stream is corrupt: \(error)")
        }
        guard output.readableBytes <= max else {
            throw TLSReportError(.tooLarge, "the report decompresses to more than \(max) bytes (a gzip bomb?)")
        }
        guard input.readableBytes == 0 else {
            throw TLSReportError(.badCompression, "\(input.readableBytes) bytes follow the end of the gzip stream")
        }
        // zlib stops quietly where a truncated stream ends; the trailer (RFC 1952 §2.3: CRC-32, then the
        // length mod 2^32, little-endian) is then not a trailer, and does not match what came out.
        let json = Array(output.readableBytesView)
        // A header (10 bytes) and a trailer (8) at the least.
        guard bytes.count >= 18 else { throw TLSReportError(.badCompression, "the gzip stream is truncated") }
        let trailer = bytes.suffix(8).map(UInt32.init)
        let crc = trailer[0] | trailer[1] << 8 | trailer[2] << 16 | trailer[3] << 24
        let length = trailer[4] | trailer[5] << 8 | trailer[6] << 16 | trailer[7] << 24
        guard length == UInt32(truncatingIfNeeded: json.count), crc == CRC32.checksum(json) else {
            throw TLSReportError(.badCompression, "the gzip stream is truncated")
        }
        return json
    }
}
