/// A public key or subkey packet (RFC 9580 §5.5.2): version 4 or 6.
///
/// Version 3 keys (RFC 4880 §5.5.2) are refused with a clear error: they rely on MD5 fingerprints and
/// no current implementation creates them. Secret key packets are refused by the certificate parser.
public struct PublicKeyPacket: Sendable, Equatable {
    public let version: UInt8
    public let creationTime: UInt32
    public let algorithm: PublicKeyAlgorithm
    public let material: KeyMaterial
    /// The whole packet body, as hashed for fingerprints and signatures.
    public let body: [UInt8]
    public let isSubkey: Bool

    /// The algorithm-specific public parameters.
    public enum KeyMaterial: Sendable, Equatable {
        case rsa(n: [UInt8], e: [UInt8])
        case dsa(p: [UInt8], q: [UInt8], g: [UInt8], y: [UInt8])
        case elgamal(p: [UInt8], g: [UInt8], y: [UInt8])
        case ecdsa(curve: Curve, point: [UInt8])
        case eddsaLegacy(curve: Curve, point: [UInt8])
        case ecdh(curve: Curve, point: [UInt8], kdf: [UInt8])
        /// X25519, X448, Ed25519, Ed448: fixed-size native keys.
        case native([UInt8])
        /// An algorithm Palisade does not know: kept as bytes, never used to verify.
        case opaque([UInt8])
    }

    init(packet: RawPacket) throws(OpenPGPError) {
        try self.init(packet: packet, secretFollows: false)
    }

    /// With `secretFollows`, `packet` is a secret key or subkey (RFC 9580 §5.5.3): the public fields come
    /// first and the secret part follows; `body` is then the public part alone, which is what the
    /// fingerprint covers.
    init(packet: RawPacket, secretFollows: Bool) throws(OpenPGPError) {
        isSubkey = packet.tag == .publicSubkey || packet.tag == .secretSubkey
        let what = secretFollows ? (isSubkey ? "secret subkey" : "secret key") : (isSubkey ? "public subkey" : "public key")
        var reader = ByteReader(packet.body, packetOffset: packet.offset, what: what)
        version = try reader.byte()
        switch version {
        case 4, 6: break
        case 2, 3:
            throw OpenPGPError(.unsupported, "\(what): version \(version) keys are obsolete and not accepted (RFC 9580 §5.5.2.1)", at: packet.offset)
        default:
            throw OpenPGPError(.unsupported, "\(what): unknown key version \(version)", at: packet.offset)
        }
        creationTime = try reader.uint32()
        algorithm = PublicKeyAlgorithm(try reader.byte())
        var declaredEnd: Int?
        if version == 6 {
            let length = Int(try reader.uint32())
            guard length == reader.remaining || (secretFollows && length < reader.remaining) else {
                throw reader.error("key material length \(length) does not match the packet (\(reader.remaining))")
            }
            declaredEnd = reader.position + length
        }
        func curve(_ reader: inout ByteReader) throws(OpenPGPError) -> Curve {
            let length = Int(try reader.byte())
            guard length != 0, length != 0xFF else { throw reader.error("curve OID length \(length) is reserved") }
            return Curve(oid: try reader.take(length))
        }
        switch algorithm {
        case .rsa, .rsaEncryptOnly, .rsaSignOnly:
            material = .rsa(n: try reader.mpi(), e: try reader.mpi())
        case .dsa:
            material = .dsa(p: try reader.mpi(), q: try reader.mpi(), g: try reader.mpi(), y: try reader.mpi())
        case .elgamal:
            material = .elgamal(p: try reader.mpi(), g: try reader.mpi(), y: try reader.mpi())
        case .ecdsa:
            material = .ecdsa(curve: try curve(&reader), point: try reader.mpi())
        case .eddsaLegacy:
            material = .eddsaLegacy(curve: try curve(&reader), point: try reader.mpi())
        case .ecdh:
            let oid = try curve(&reader)
            let point = try reader.mpi()
            let kdfLength = Int(try reader.byte())
            material = .ecdh(curve: oid, point: point, kdf: try reader.take(kdfLength))
        case .x25519:
            material = .native(try reader.take(32))
        case .x448:
            material = .native(try reader.take(56))
        case .ed25519:
            material = .native(try reader.take(32))
        case .ed448:
            material = .native(try reader.take(57))
        case .unknown:
            guard !secretFollows else { throw reader.error("a secret key of unknown algorithm \(algorithm.id) cannot be read") }
            material = .opaque(reader.rest())
        }
        if let declaredEnd, reader.position != declaredEnd {
            throw reader.error("key material does not fill its declared length")
        }
        if secretFollows {
            guard !reader.isAtEnd else { throw reader.error("the secret part is missing") }
            body = Array(packet.body[..<(packet.body.count - reader.remaining)])
        } else {
            guard reader.isAtEnd else { throw reader.error("\(reader.remaining) bytes left after the key material") }
            body = packet.body
        }
    }

    /// The fingerprint: SHA-1 over 0x99, a 2-octet length and the body for v4; SHA-256 over 0x9B, a
    /// 4-octet length and the body for v6 (RFC 9580 §5.5.4).
    public var fingerprint: Fingerprint {
        let length = body.count
        if version == 6 {
            let digest = Digest.hash(.sha256, [0x9B, UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)], body)!
            return try! Fingerprint(bytes: digest)
        }
        let digest = Digest.hash(.sha1, [0x99, UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)], body)!
        return try! Fingerprint(bytes: digest)
    }

    /// The key ID bytes: the low 64 bits of a v4 fingerprint, the high 64 bits of a v6 one.
    public var keyID: [UInt8] { version == 6 ? Array(fingerprint.bytes.prefix(8)) : Array(fingerprint.bytes.suffix(8)) }

    /// The bytes a signature of `signatureVersion` hashes before this key's body (RFC 9580 §5.2.4).
    func hashPrefix(forSignatureVersion signatureVersion: UInt8) -> [UInt8] {
        let length = body.count
        if signatureVersion == 6 { return [0x9B, UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] }
        return [0x99, UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
    }

    /// Key size in bits for the strength policy (modulus, prime or curve size).
    public var bits: Int {
        func bitLength(_ bytes: [UInt8]) -> Int {
            guard let first = bytes.firstIndex(where: { $0 != 0 }) else { return 0 }
            return (bytes.count - first) * 8 - bytes[first].leadingZeroBitCount
        }
        switch material {
        case .rsa(let n, _): return bitLength(n)
        case .dsa(let p, _, _, _), .elgamal(let p, _, _): return bitLength(p)
        case .ecdsa(let curve, _), .eddsaLegacy(let curve, _), .ecdh(let curve, _, _): return curve.bits
        case .native:
            switch algorithm {
            case .x448: return 448
            case .ed448: return 456
            default: return 256
            }
        case .opaque: return 0
        }
    }
}

import Core
