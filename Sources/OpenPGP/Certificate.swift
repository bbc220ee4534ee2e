import Core

/// An OpenPGP certificate (a transferable public key, RFC 9580 §10.1) as its packets arrived:
/// the primary key, its direct signatures, User IDs, User Attributes and subkeys, each with the
/// signatures that followed it. Nothing here is verified yet: `CertificateValidator` decides what holds.
public struct Certificate: Sendable {
    public struct UserID: Sendable {
        /// The User ID's bytes (normally UTF-8 "Name <address>").
        public let value: [UInt8]
        public let signatures: [SignaturePacket]
        public var text: String { String(decoding: value, as: UTF8.self) }

        public init(value: [UInt8], signatures: [SignaturePacket]) {
            self.value = value
            self.signatures = signatures
        }

        /// The e-mail address in the User ID: `Name <address>` with exactly one pair of angle brackets
        /// at the end, or a bare address. nil otherwise: a User ID like `<a@x> <b@x>` is read differently
        /// by different clients, so it is never matched to either address.
        public var email: EmailAddress? {
            let text = self.text.trimmingSpaces()
            let opens = text.filter { $0 == "<" }.count
            let closes = text.filter { $0 == ">" }.count
            if opens == 0 && closes == 0 { return try? EmailAddress(text) }
            guard opens == 1, closes == 1, text.hasSuffix(">"), let open = text.firstIndex(of: "<") else { return nil }
            return try? EmailAddress(String(text[text.index(after: open)..<text.index(before: text.endIndex)]))
        }
    }

    public struct UserAttribute: Sendable {
        public let value: [UInt8]
        public let signatures: [SignaturePacket]
    }

    public struct Subkey: Sendable {
        public let key: PublicKeyPacket
        public let signatures: [SignaturePacket]
    }

    public let primaryKey: PublicKeyPacket
    /// Signatures directly on the primary key: direct-key signatures and key revocations.
    public let directSignatures: [SignaturePacket]
    public let userIDs: [UserID]
    public let userAttributes: [UserAttribute]
    public let subkeys: [Subkey]
    /// Signatures Palisade cannot read (other versions, malformed), counted so nothing disappears unexplained.
    public let skippedSignatures: Int
    /// Components left out while reading (a subkey of an unsupported version), with why.
    public let skippedComponents: [String]

    public var fingerprint: Fingerprint { primaryKey.fingerprint }

    /// Reads every certificate in `input`: binary, or armored (several blocks allowed).
    public static func parse(_ input: [UInt8], limits: OpenPGPLimits = .default) throws(OpenPGPError) -> [Certificate] {
        if Armor.isArmored(input) {
            var certificates: [Certificate] = []
            for block in try Armor.decode(input, limits: limits) {
                guard block.kind == .publicKey else {
                    if block.kind == .privateKey {
                        throw OpenPGPError(.secretKeyMaterial, "this is a secret key; send the public key only (gpg --export --armor)")
                    }
                    throw OpenPGPError(.unsupported, "armor block \"\(block.kind.rawValue)\" is not a public key")
                }
                certificates += try parse(packets: PacketReader.packets(block.data, limits: limits), limits: limits)
            }
            return certificates
        }
        return try parse(packets: PacketReader.packets(input, limits: limits), limits: limits)
    }

    /// Groups packets into certificates (RFC 9580 §10.1's order; signatures attach to what precedes them).
    public static func parse(packets: [RawPacket], limits: OpenPGPLimits = .default) throws(OpenPGPError) -> [Certificate] {
        var certificates: [Certificate] = []
        var builder: Builder?
        for packet in packets {
            switch packet.tag {
            case .publicKey:
                if let finished = builder?.build() { certificates.append(finished) }
                builder = Builder(primary: try PublicKeyPacket(packet: packet))
            case .publicSubkey:
                guard builder != nil else { throw OpenPGPError(.malformed, "a subkey comes before any primary key", at: packet.offset) }
                do {
                    builder!.startSubkey(try PublicKeyPacket(packet: packet))
                } catch where error.kind == .unsupported {
                    // A subkey of a version or kind we do not take (a v5 subkey from GnuPG 2.4, say) is left
                    // out with its signatures; the rest of the certificate still counts.
                    builder!.skipComponent("subkey at byte \(packet.offset): \(error.message)")
                }
            case .userID:
                guard builder != nil else { throw OpenPGPError(.malformed, "a User ID comes before any primary key", at: packet.offset) }
                builder!.startUserID(packet.body)
            case .userAttribute:
                guard builder != nil else { throw OpenPGPError(.malformed, "a User Attribute comes before any primary key", at: packet.offset) }
                builder!.startUserAttribute(packet.body)
            case .signature:
                guard builder != nil else { throw OpenPGPError(.malformed, "a signature comes before any primary key", at: packet.offset) }
                do {
                    builder!.add(try SignaturePacket(packet: packet, limits: limits))
                } catch where error.kind != .tooLarge {
                    // An unreadable signature is one bad signature, not a bad certificate.
                    builder!.skippedSignatures += 1
                }
            case .marker, .trust, .padding:
                continue
            case nil where packet.tagNumber >= 40:
                // RFC 9580 §4.3: tags 40–63 are non-critical and are ignored when unknown.
                continue
            case .secretKey, .secretSubkey:
                throw OpenPGPError(.secretKeyMaterial, "this contains secret key material; send the public key only (gpg --export)", at: packet.offset)
            case .compressedData, .literalData, nil:
                throw OpenPGPError(.malformed, "a \(packet.tag.map { "\($0)" } ?? "tag \(packet.tagNumber)") packet does not belong in a certificate", at: packet.offset)
            }
        }
        if let finished = builder?.build() { certificates.append(finished) }
        return certificates
    }

    /// Collects a certificate's packets in order.
    private struct Builder {
        enum Component { case primary, userID(Int), userAttribute(Int), subkey(Int), skipped }

        let primary: PublicKeyPacket
        var direct: [SignaturePacket] = []
        var userIDs: [(value: [UInt8], signatures: [SignaturePacket])] = []
        var userAttributes: [(value: [UInt8], signatures: [SignaturePacket])] = []
        var subkeys: [(key: PublicKeyPacket, signatures: [SignaturePacket])] = []
        var current = Component.primary
        var skippedSignatures = 0
        var skippedComponents: [String] = []

        init(primary: PublicKeyPacket) { self.primary = primary }

        mutating func startUserID(_ value: [UInt8]) {
            userIDs.append((value, []))
            current = .userID(userIDs.count - 1)
        }

        mutating func startUserAttribute(_ value: [UInt8]) {
            userAttributes.append((value, []))
            current = .userAttribute(userAttributes.count - 1)
        }

        mutating func startSubkey(_ key: PublicKeyPacket) {
            subkeys.append((key, []))
            current = .subkey(subkeys.count - 1)
        }

        mutating func skipComponent(_ reason: String) {
            if skippedComponents.count < 100 { skippedComponents.append(reason) }
            current = .skipped
        }

        mutating func add(_ signature: SignaturePacket) {
            // A key revocation or direct-key signature is about the primary key wherever it appears
            // (gpg 2.2 ignores one placed after the subkeys; we do not, and write it back in place).
            if signature.type == .keyRevocation || signature.type == .directKey {
                direct.append(signature)
                return
            }
            switch current {
            case .primary: direct.append(signature)
            case .userID(let index): userIDs[index].signatures.append(signature)
            case .userAttribute(let index): userAttributes[index].signatures.append(signature)
            case .subkey(let index): subkeys[index].signatures.append(signature)
            case .skipped: skippedSignatures += 1
            }
        }

        func build() -> Certificate {
            Certificate(
                primaryKey: primary, directSignatures: direct,
                userIDs: userIDs.map { UserID(value: $0.value, signatures: $0.signatures) },
                userAttributes: userAttributes.map { UserAttribute(value: $0.value, signatures: $0.signatures) },
                subkeys: subkeys.map { Subkey(key: $0.key, signatures: $0.signatures) },
                skippedSignatures: skippedSignatures, skippedComponents: skippedComponents
            )
        }
    }
}
