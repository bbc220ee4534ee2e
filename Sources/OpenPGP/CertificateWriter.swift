import Core

extension ValidCertificate {
    /// The packets of this certificate in canonical order (RFC 9580 §10.1): primary key, its
    /// revocations and direct-key signatures, each User ID with its self-signatures and revocations,
    /// each subkey with its bindings and revocations. Key revocations come straight after the primary
    /// key, where every implementation looks for them (gpg 2.2 ignores one placed after the subkeys).
    /// With `userIDs` given (minimisation), only those User IDs and no User Attribute are written.
    public func packets(userIDs selected: [UserID]? = nil) -> [RawPacket] {
        func packet(_ tag: PacketTag, _ body: [UInt8]) -> RawPacket { RawPacket(tagNumber: tag.rawValue, body: body, offset: 0) }
        var packets = [packet(.publicKey, primaryKey.body)]
        packets += keyRevocations.map { packet(.signature, $0.body) }
        packets += directKeySignatures.map { packet(.signature, $0.body) }
        for userID in selected ?? userIDs {
            packets.append(packet(.userID, userID.value))
            packets += userID.revocations.map { packet(.signature, $0.body) }
            packets += userID.certifications.map { packet(.signature, $0.body) }
        }
        if selected == nil {
            for attribute in userAttributes {
                packets.append(packet(.userAttribute, attribute.value))
                packets += attribute.revocations.map { packet(.signature, $0.body) }
                packets += attribute.certifications.map { packet(.signature, $0.body) }
            }
        }
        for subkey in subkeys {
            packets.append(packet(.publicSubkey, subkey.key.body))
            packets += subkey.revocations.map { packet(.signature, $0.body) }
            packets += subkey.bindings.map { packet(.signature, $0.body) }
        }
        return packets
    }

    /// The canonical certificate as binary OpenPGP (new packet framing).
    public var serialized: [UInt8] { packets().flatMap(\.serialized) }

    /// The certificate as WKD must serve it for `address` (draft-koch-openpgp-webkey-service §3.1):
    /// the primary key, **only the User ID(s) carrying that address** with their self-signatures and
    /// revocations, and the valid subkeys with their bindings; no other User ID, no User Attribute, no
    /// third-party certification. nil when no validly certified User ID carries the address.
    public func minimized(for address: EmailAddress) -> [UInt8]? {
        // A revoked User ID is served with its revocation, so clients learn of it (the draft lets a
        // server serve revoked keys); the publisher decides whether to publish at all.
        let matching = userIDs.filter { $0.email == address }
        guard !matching.isEmpty else { return nil }
        return packets(userIDs: matching).flatMap(\.serialized)
    }
}
