/// Signature types (RFC 9580 §5.2.1) that certificates carry.
public enum SignatureType: Sendable, Equatable, Hashable, CustomStringConvertible {
    case binary, text, standalone
    case genericCertification, personaCertification, casualCertification, positiveCertification
    case subkeyBinding, primaryKeyBinding, directKey
    case keyRevocation, subkeyRevocation, certificationRevocation
    case timestamp, thirdPartyConfirmation
    case unknown(UInt8)

    public init(_ id: UInt8) {
        switch id {
        case 0x00: self = .binary
        case 0x01: self = .text
        case 0x02: self = .standalone
        case 0x10: self = .genericCertification
        case 0x11: self = .personaCertification
        case 0x12: self = .casualCertification
        case 0x13: self = .positiveCertification
        case 0x18: self = .subkeyBinding
        case 0x19: self = .primaryKeyBinding
        case 0x1F: self = .directKey
        case 0x20: self = .keyRevocation
        case 0x28: self = .subkeyRevocation
        case 0x30: self = .certificationRevocation
        case 0x40: self = .timestamp
        case 0x50: self = .thirdPartyConfirmation
        default: self = .unknown(id)
        }
    }

    public var id: UInt8 {
        switch self {
        case .binary: 0x00
        case .text: 0x01
        case .standalone: 0x02
        case .genericCertification: 0x10
        case .personaCertification: 0x11
        case .casualCertification: 0x12
        case .positiveCertification: 0x13
        case .subkeyBinding: 0x18
        case .primaryKeyBinding: 0x19
        case .directKey: 0x1F
        case .keyRevocation: 0x20
        case .subkeyRevocation: 0x28
        case .certificationRevocation: 0x30
        case .timestamp: 0x40
        case .thirdPartyConfirmation: 0x50
        case .unknown(let id): id
        }
    }

    /// 0x10–0x13: a certification of a User ID or User Attribute.
    public var isCertification: Bool { (0x10...0x13).contains(id) }

    public var description: String { "0x" + String(id, radix: 16, uppercase: true) }
}

/// One signature subpacket (RFC 9580 §5.2.3.7): its type, the critical bit and its data.
public struct Subpacket: Sendable, Equatable {
    public let type: UInt8
    public let critical: Bool
    public let data: [UInt8]
}

/// A signature packet, version 4 or 6 (RFC 9580 §5.2.3), with its subpackets read.
///
/// Signatures of other versions (v3, v5) are parsed only far enough to be skipped: RFC 9580 lets an
/// implementation ignore them, and no certificate needs them.
public struct SignaturePacket: Sendable, Equatable {
    public let version: UInt8
    public let type: SignatureType
    public let publicKeyAlgorithm: PublicKeyAlgorithm
    public let hashAlgorithm: HashAlgorithm
    public let hashed: [Subpacket]
    public let unhashed: [Subpacket]
    /// The first two bytes of the digest, a quick check before the public-key operation.
    public let digestPrefix: [UInt8]
    /// v6 only: the random salt hashed before everything else.
    public let salt: [UInt8]
    /// The signature values: MPIs (RSA one, DSA/ECDSA/EdDSA legacy two) or a native 64/114-byte value.
    public let values: [[UInt8]]
    /// The hashed part of the packet (version through hashed subpackets), as the trailer needs it.
    let hashedPart: [UInt8]
    /// The whole packet body, for writing the packet out again.
    public let body: [UInt8]

    /// Known subpacket types (RFC 9580 §5.2.3.7).
    enum SubpacketType {
        static let creationTime: UInt8 = 2
        static let expirationTime: UInt8 = 3
        static let exportable: UInt8 = 4
        static let trust: UInt8 = 5
        static let regularExpression: UInt8 = 6
        static let revocable: UInt8 = 7
        static let keyExpirationTime: UInt8 = 9
        static let preferredSymmetric: UInt8 = 11
        static let revocationKey: UInt8 = 12
        static let issuerKeyID: UInt8 = 16
        static let notation: UInt8 = 20
        static let preferredHash: UInt8 = 21
        static let preferredCompression: UInt8 = 22
        static let keyServerPreferences: UInt8 = 23
        static let preferredKeyServer: UInt8 = 24
        static let primaryUserID: UInt8 = 25
        static let policyURI: UInt8 = 26
        static let keyFlags: UInt8 = 27
        static let signersUserID: UInt8 = 28
        static let revocationReason: UInt8 = 29
        static let features: UInt8 = 30
        static let signatureTarget: UInt8 = 31
        static let embeddedSignature: UInt8 = 32
        static let issuerFingerprint: UInt8 = 33
        static let intendedRecipient: UInt8 = 35
        static let preferredAEAD: UInt8 = 39

        /// The types this implementation understands; a critical subpacket of another type makes the
        /// signature invalid (RFC 9580 §5.2.3.7).
        static let understood: Set<UInt8> = [
            creationTime, expirationTime, exportable, revocable, keyExpirationTime, preferredSymmetric, issuerKeyID,
            preferredHash, preferredCompression, keyServerPreferences, preferredKeyServer, primaryUserID, policyURI,
            keyFlags, signersUserID, revocationReason, features, embeddedSignature, issuerFingerprint, intendedRecipient,
            preferredAEAD, trust, revocationKey,
        ]
    }

    init(packet: RawPacket, limits: OpenPGPLimits) throws(OpenPGPError) {
        try self.init(body: packet.body, offset: packet.offset, limits: limits)
    }

    init(body: [UInt8], offset: Int, limits: OpenPGPLimits) throws(OpenPGPError) {
        var reader = ByteReader(body, packetOffset: offset, what: "signature")
        version = try reader.byte()
        guard version == 4 || version == 6 else {
            throw OpenPGPError(.unsupported, "signature: version \(version) signatures are not accepted", at: offset)
        }
        type = SignatureType(try reader.byte())
        publicKeyAlgorithm = PublicKeyAlgorithm(try reader.byte())
        hashAlgorithm = HashAlgorithm(try reader.byte())
        let hashedLength = version == 6 ? Int(try reader.uint32()) : try reader.uint16()
        let hashedStart = reader.position
        guard hashedLength <= reader.remaining else { throw reader.error("hashed subpackets run past the packet") }
        hashed = try Self.subpackets(body, range: hashedStart..<hashedStart + hashedLength, offset: offset, limit: limits.maximumSubpackets)
        reader.position = hashedStart + hashedLength
        hashedPart = Array(body[0..<reader.position])
        let unhashedLength = version == 6 ? Int(try reader.uint32()) : try reader.uint16()
        let unhashedStart = reader.position
        guard unhashedLength <= reader.remaining else { throw reader.error("unhashed subpackets run past the packet") }
        unhashed = try Self.subpackets(body, range: unhashedStart..<unhashedStart + unhashedLength, offset: offset,
                                       limit: limits.maximumSubpackets - hashed.count)
        reader.position = unhashedStart + unhashedLength
        digestPrefix = try reader.take(2)
        if version == 6 {
            let saltLength = Int(try reader.byte())
            salt = try reader.take(saltLength)
        } else {
            salt = []
        }
        switch publicKeyAlgorithm {
        case .rsa, .rsaSignOnly, .rsaEncryptOnly:
            values = [try reader.mpi()]
        case .dsa, .ecdsa, .eddsaLegacy:
            values = [try reader.mpi(), try reader.mpi()]
        case .ed25519:
            values = [try reader.take(64)]
        case .ed448:
            values = [try reader.take(114)]
        default:
            values = [reader.rest()]
        }
        guard reader.isAtEnd else { throw reader.error("\(reader.remaining) bytes left after the signature values") }
        self.body = body
    }

    private static func subpackets(_ bytes: [UInt8], range: Range<Int>, offset: Int, limit: Int) throws(OpenPGPError) -> [Subpacket] {
        var reader = ByteReader(bytes, packetOffset: offset, what: "signature subpacket", range: range)
        var result: [Subpacket] = []
        while !reader.isAtEnd {
            guard result.count < limit else { throw OpenPGPError(.tooLarge, "signature has more than the allowed number of subpackets", at: offset) }
            let first = Int(try reader.byte())
            let length: Int
            switch first {
            case 0..<192: length = first
            case 192..<255: length = (first - 192) << 8 + Int(try reader.byte()) + 192
            default: length = Int(try reader.uint32())
            }
            guard length >= 1 else { throw reader.error("a subpacket has length 0") }
            let type = try reader.byte()
            result.append(Subpacket(type: type & 0x7F, critical: type & 0x80 != 0, data: try reader.take(length - 1)))
        }
        return result
    }

    // MARK: - Subpacket values

    private func hashedValue(_ type: UInt8) -> [UInt8]? { hashed.last { $0.type == type }?.data }

    private static func uint32(_ data: [UInt8]?) -> UInt32? {
        guard let data, data.count == 4 else { return nil }
        return UInt32(data[0]) << 24 | UInt32(data[1]) << 16 | UInt32(data[2]) << 8 | UInt32(data[3])
    }

    /// Signature creation time (hashed; a signature without one is invalid, RFC 9580 §5.2.3.11).
    public var creationTime: UInt32? { Self.uint32(hashedValue(SubpacketType.creationTime)) }
    /// Seconds after creation when the signature expires; nil or 0: never.
    public var expirationSeconds: UInt32? { Self.uint32(hashedValue(SubpacketType.expirationTime)) }
    /// Seconds after the key's creation when the key expires; nil or 0: never.
    public var keyExpirationSeconds: UInt32? { Self.uint32(hashedValue(SubpacketType.keyExpirationTime)) }
    public var isPrimaryUserID: Bool { hashedValue(SubpacketType.primaryUserID)?.first.map { $0 != 0 } ?? false }
    /// Key flags (RFC 9580 §5.2.3.29), first octet: 0x01 certify, 0x02 sign, 0x04/0x08 encrypt, 0x20 authenticate.
    public var keyFlags: [UInt8]? { hashedValue(SubpacketType.keyFlags) }
    public var features: [UInt8]? { hashedValue(SubpacketType.features) }
    public var preferredSymmetric: [UInt8]? { hashedValue(SubpacketType.preferredSymmetric) }
    public var preferredHash: [UInt8]? { hashedValue(SubpacketType.preferredHash) }
    public var preferredCompression: [UInt8]? { hashedValue(SubpacketType.preferredCompression) }
    public var preferredAEAD: [UInt8]? { hashedValue(SubpacketType.preferredAEAD) }

    /// Reason for revocation (RFC 9580 §5.2.3.31): code and the human-readable text.
    public var revocationReason: (code: UInt8, text: String)? {
        guard let data = hashedValue(SubpacketType.revocationReason), let code = data.first else { return nil }
        return (code, String(decoding: data.dropFirst(), as: UTF8.self))
    }

    /// Issuer fingerprints (hashed or unhashed; an unhashed one is only a hint, checked by verifying).
    public var issuerFingerprints: [[UInt8]] {
        (hashed + unhashed).filter { $0.type == SubpacketType.issuerFingerprint && $0.data.count >= 1 }.map { Array($0.data.dropFirst()) }
    }

    /// Issuer key IDs (hashed or unhashed hints).
    public var issuerKeyIDs: [[UInt8]] {
        (hashed + unhashed).filter { $0.type == SubpacketType.issuerKeyID && $0.data.count == 8 }.map(\.data)
    }

    /// The embedded signature (a primary-key binding inside a signing subkey's binding), hashed or not.
    public var embeddedSignatures: [[UInt8]] {
        (hashed + unhashed).filter { $0.type == SubpacketType.embeddedSignature }.map(\.data)
    }

    /// A critical hashed subpacket this implementation does not understand: the signature must be
    /// treated as invalid (RFC 9580 §5.2.3.7).
    public var unknownCriticalSubpacket: UInt8? {
        hashed.first { $0.critical && !SubpacketType.understood.contains($0.type) }?.type
    }

    /// Whether this signature could have been made by a key with this fingerprint and key ID (issuer
    /// subpackets are hints; a signature without any is tried against every candidate).
    public func mayBeIssued(byFingerprint fingerprint: [UInt8], keyID: [UInt8]) -> Bool {
        let fingerprints = issuerFingerprints
        let keyIDs = issuerKeyIDs
        if fingerprints.isEmpty && keyIDs.isEmpty { return true }
        return fingerprints.contains(fingerprint) || keyIDs.contains(keyID)
    }
}
