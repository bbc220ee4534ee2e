import Core

extension Certificate {
    /// Unites two copies of one certificate (the stored one and one just imported or fetched), so that
    /// nothing either holds is lost: every User ID, User Attribute and subkey of both, each with the
    /// signatures of both, a signature counted once however often it arrives. Which of them hold is
    /// decided afterwards by `validated(at:)`, as for any certificate. This is how an import adds new
    /// self-signatures, revocations and subkeys, and why one that lacks them (a key server that publishes
    /// only confirmed User IDs, an older export) removes nothing.
    public func merged(with other: Certificate) throws(OpenPGPError) -> Certificate {
        guard other.fingerprint == fingerprint else {
            throw OpenPGPError(.malformed, "cannot merge certificate \(other.fingerprint) into \(fingerprint): they are different keys")
        }
        return Certificate(
            primaryKey: primaryKey,
            directSignatures: Self.union(directSignatures, other.directSignatures),
            userIDs: Self.unite(userIDs, other.userIDs, by: \.value) { UserID(value: $0.value, signatures: Self.union($0.signatures, $1.signatures)) },
            userAttributes: Self.unite(userAttributes, other.userAttributes, by: \.value) {
                UserAttribute(value: $0.value, signatures: Self.union($0.signatures, $1.signatures))
            },
            subkeys: Self.unite(subkeys, other.subkeys, by: \.key.body) { Subkey(key: $0.key, signatures: Self.union($0.signatures, $1.signatures)) },
            skippedSignatures: skippedSignatures + other.skippedSignatures,
            skippedComponents: skippedComponents + other.skippedComponents
        )
    }

    /// This copy without the User IDs and User Attributes that `other` lacks: what a key server's copy may
    /// add to ours (revocations, newer self-signatures of the identities we hold, subkeys and their
    /// bindings) without bringing in identities we were never given.
    public func restricted(toUserIDsOf other: Certificate) -> Certificate {
        let knownUserIDs = Set(other.userIDs.map(\.value))
        let knownAttributes = Set(other.userAttributes.map(\.value))
        return Certificate(primaryKey: primaryKey, directSignatures: directSignatures, userIDs: userIDs.filter { knownUserIDs.contains($0.value) },
                           userAttributes: userAttributes.filter { knownAttributes.contains($0.value) }, subkeys: subkeys,
                           skippedSignatures: skippedSignatures, skippedComponents: skippedComponents)
    }

    /// `ours` then the signatures of `theirs` not already there (same bytes), in arrival order.
    static func union(_ ours: [SignaturePacket], _ theirs: [SignaturePacket]) -> [SignaturePacket] {
        var seen = Set(ours.map(\.body))
        return ours + theirs.filter { seen.insert($0.body).inserted }
    }

    /// The components of both, keyed by `key`: ours in order with theirs folded in, then theirs that are new.
    static func unite<Component>(_ ours: [Component], _ theirs: [Component], by key: (Component) -> [UInt8],
                                 _ combine: (Component, Component) -> Component) -> [Component] {
        var result = ours
        var index: [[UInt8]: Int] = [:]
        for (position, component) in ours.enumerated() where index[key(component)] == nil { index[key(component)] = position }
        for component in theirs {
            if let position = index[key(component)] {
                result[position] = combine(result[position], component)
            } else {
                index[key(component)] = result.count
                result.append(component)
            }
        }
        return result
    }
}
