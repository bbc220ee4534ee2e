import Core

/// A transferable secret key as a client exported it (RFC 9580 §10.2), read only far enough to tell
/// whose it is and whether it is protected: the secret parts are never decrypted or interpreted.
///
/// The keystore keeps an account's secret key exactly as its client encrypted it; this type checks that
/// every secret (sub)key packet is protected by a passphrase (S2K usage octet not 0, §5.5.3) and names the
/// keys it holds, so that it can be matched to a stored certificate.
public struct SecretKeyPackets: Sendable {
    public struct Key: Sendable {
        /// The public part (its fingerprint identifies the key).
        public let publicKey: PublicKeyPacket
        /// The S2K usage octet (RFC 9580 §5.5.3): 0 means the secret material is stored in the clear.
        public let s2kUsage: UInt8
        /// Protected by a passphrase in a form RFC 9580 lets an implementation write: AEAD (253), CFB with
        /// a SHA-1 check (254), or, for v4 keys only, CFB with a checksum (255). The legacy values 1–252
        /// (a cipher with the passphrase's MD5 as key) are not counted as protection.
        public var isProtected: Bool {
            s2kUsage == 253 || s2kUsage == 254 || (s2kUsage == 255 && publicKey.version == 4)
        }
    }

    /// The primary secret key.
    public let primary: Key
    public let subkeys: [Key]
    /// The packets as received, binary (armor removed): what is stored and handed back.
    public let binary: [UInt8]

    public var fingerprint: Fingerprint { primary.publicKey.fingerprint }

    /// Reads one transferable secret key, armored (`PGP PRIVATE KEY BLOCK`) or binary.
    public static func parse(_ input: [UInt8], limits: OpenPGPLimits = .default) throws(OpenPGPError) -> SecretKeyPackets {
        var data = input
        if Armor.isArmored(input) {
            let blocks = try Armor.decode(input, limits: limits)
            guard blocks.count == 1, blocks[0].kind == .privateKey else {
                throw OpenPGPError(.unsupported, "expected one PGP PRIVATE KEY BLOCK")
            }
            data = blocks[0].data
        }
        var primary: Key?
        var subkeys: [Key] = []
        for packet in try PacketReader.packets(data, limits: limits) {
            switch packet.tag {
            case .secretKey:
                guard primary == nil else { throw OpenPGPError(.unsupported, "more than one secret key: send one at a time", at: packet.offset) }
                primary = try key(packet)
            case .secretSubkey:
                guard primary != nil else { throw OpenPGPError(.malformed, "a secret subkey comes before the secret key", at: packet.offset) }
                subkeys.append(try key(packet))
            case .publicKey, .publicSubkey:
                throw OpenPGPError(.unsupported, "public key packets where secret key packets belong", at: packet.offset)
            case .userID, .userAttribute, .signature, .trust, .marker, .padding:
                // The rest of a transferable secret key (RFC 9580 §10.2), kept as sent.
                guard primary != nil || packet.tag == .marker else {
                    throw OpenPGPError(.malformed, "a packet comes before the secret key", at: packet.offset)
                }
            default:
                throw OpenPGPError(.unsupported, "packet type \(packet.tagNumber) does not belong in a secret key", at: packet.offset)
            }
        }
        guard let primary else { throw OpenPGPError(.malformed, "no secret key packet") }
        return SecretKeyPackets(primary: primary, subkeys: subkeys, binary: data)
    }

    static func key(_ packet: RawPacket) throws(OpenPGPError) -> Key {
        let publicKey = try PublicKeyPacket(packet: packet, secretFollows: true)
        return Key(publicKey: publicKey, s2kUsage: packet.body[publicKey.body.count])
    }
}
