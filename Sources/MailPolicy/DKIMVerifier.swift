import Core
import DNS
import Foundation
import HTTPFetch

/// The result of one DKIM signature (RFC 6376 §6.1, RFC 8601 §2.7.1 names).
public struct DKIMResult: Sendable, Equatable {
    public enum Kind: String, Sendable { case pass, fail, neutral, temperror, permerror, policy }
    public let kind: Kind
    /// `d=` and `s=` of the signature (empty when it could not be read).
    public let domain: String
    public let selector: String
    public let algorithm: String
    /// Why, in words.
    public let reason: String
    /// The key record says `t=y`.
    public let testing: Bool
    /// False when `l=` left part of the body unsigned (content anyone could have appended).
    public let coversWholeBody: Bool

    public init(kind: Kind, domain: String, selector: String, algorithm: String, reason: String, testing: Bool, coversWholeBody: Bool = true) {
        self.coversWholeBody = coversWholeBody
        self.kind = kind
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.reason = reason
        self.testing = testing
    }
}

/// Verifies every DKIM signature of a message (RFC 6376, RFC 8463): the key from DNS (a failure is
/// temperror), the body hash over the canonicalized body (`l=` honoured, never beyond the body), the
/// signature over the signed header fields taken bottom-up. rsa-sha1 is never a pass (RFC 8301), nor is an
/// RSA key under `minimumRSABits`.
public struct DKIMVerifier: Sendable {
    let resolver: DNSResolver
    public let minimumRSABits: Int
    /// Signatures past this many are not checked (each costs a DNS look-up).
    public static let maximumSignatures = 10

    public init(resolver: DNSResolver, minimumRSABits: Int = 1024) {
        self.resolver = resolver
        self.minimumRSABits = minimumRSABits
    }

    /// `headers` in the order they appear, top first; `body` as received (CRLF line ends).
    public func verify(headers: [MailHeaderField], body: [UInt8], now: Date = Date()) async -> [DKIMResult] {
        var results: [DKIMResult] = []
        // Names compared trimmed and lower-cased ("From :" is a From field), computed once.
        let names = headers.map { $0.name.trimmingCharacters(in: .whitespaces).lowercased() }
        var bodies: [DKIMSignature.Canonicalization: [UInt8]] = [:]
        for (index, name) in names.enumerated() where name == "dkim-signature" {
            guard results.count < Self.maximumSignatures else { break }
            results.append(await verify(signatureAt: index, headers: headers, names: names, body: body, bodies: &bodies, now: now))
        }
        return results
    }

    private func verify(signatureAt index: Int, headers: [MailHeaderField], names: [String], body: [UInt8],
                        bodies: inout [DKIMSignature.Canonicalization: [UInt8]], now: Date) async -> DKIMResult {
        let field = headers[index]
        let signature: DKIMSignature
        do { signature = try DKIMSignature.parse(field.value) } catch {
            return DKIMResult(kind: .permerror, domain: "", selector: "", algorithm: "", reason: "\(error)", testing: false)
        }
        var whole = true
        func result(_ kind: DKIMResult.Kind, _ reason: String, testing: Bool = false) -> DKIMResult {
            DKIMResult(kind: kind, domain: signature.domain, selector: signature.selector, algorithm: signature.algorithm.rawValue, reason: reason,
                       testing: testing, coversWholeBody: whole)
        }
        if signature.algorithm == .rsaSHA1 { return result(.permerror, "rsa-sha1 is not accepted (RFC 8301)") }
        if let expiration = signature.expiration, Double(expiration) < now.timeIntervalSince1970 { return result(.fail, "the signature expired (x=)") }
        // The key.
        let keyName = "\(signature.selector)._domainkey.\(signature.domain)"
        guard let keyDNSName = try? DNSName(keyName), keyName.utf8.count <= 253 else { return result(.permerror, "\(keyName.prefix(80)) is not a DNS name") }
        let key: DKIMKeyRecord
        do {
            let answer = try await resolver.txt(keyDNSName)
            switch answer.outcome {
            case .failed(let reason): return result(.temperror, "the key look-up of \(keyName) failed: \(reason)")
            case .noRecords, .noSuchName: return result(.permerror, "no key at \(keyName)")
            case .records(let records):
                guard records.count == 1 else { return result(.permerror, "\(records.count) key records at \(keyName)") }
                key = try DKIMKeyRecord.parse(records[0].text)
            }
        } catch let error as DKIMError {
            return result(.permerror, "the key at \(keyName) is unusable: \(error)")
        } catch {
            return result(.temperror, "the key look-up of \(keyName) failed: \(error)")
        }
        guard !key.publicKey.isEmpty else { return result(.permerror, "the key at \(keyName) is revoked (empty p=)") }
        let wantedType: DKIMKeyRecord.KeyType = signature.algorithm == .ed25519SHA256 ? .ed25519 : .rsa
        guard key.keyType == wantedType else { return result(.permerror, "a=\(signature.algorithm.rawValue) with a k=\(key.keyType.rawValue) key") }
        if let hashes = key.hashes, !hashes.contains("sha256") { return result(.permerror, "the key does not allow sha256 (h=)") }
        if key.strict, signature.identity.split(separator: "@").last.map({ $0.lowercased() }) != signature.domain {
            return result(.permerror, "the key requires i= in d= itself (t=s)")
        }
        if key.keyType == .rsa {
            guard let bits = DKIMCrypto.rsaBits(key.publicKey) else { return result(.permerror, "the key at \(keyName) is not an RSA public key") }
            guard bits >= minimumRSABits else { return result(.policy, "the RSA key has \(bits) bits, under the \(minimumRSABits) required", testing: key.testing) }
        }
        // The body hash.
        // Canonicalized once per mode for all the message's signatures.
        var canonical: [UInt8]
        if let cached = bodies[signature.bodyCanonicalization] {
            canonical = cached
        } else {
            canonical = DKIMCanonicalization.body(body, signature.bodyCanonicalization)
            bodies[signature.bodyCanonicalization] = canonical
        }
        if let length = signature.bodyLength {
            guard length <= canonical.count else { return result(.permerror, "l=\(length) is longer than the body") }
            whole = length == canonical.count
            canonical = Array(canonical.prefix(length))
        }
        guard SHA2.sha256(canonical) == signature.bodyHash else { return result(.fail, "the body hash does not match (the body was changed)", testing: key.testing) }
        // The header hash input: each h= name takes the next instance from the bottom (§5.4.2).
        var unused: [String: [Int]] = [:]  // per name, the fields not yet taken, the last at the end
        for (position, name) in names.enumerated() where position != index { unused[name, default: []].append(position) }
        var data: [UInt8] = []
        for name in signature.signedHeaders {
            guard let found = unused[name]?.popLast() else { continue }
            data += DKIMCanonicalization.header(headers[found], signature.headerCanonicalization)
        }
        var own = DKIMCanonicalization.header(MailHeaderField(name: field.name, bytes: Self.withoutSignature(field.bytes)), signature.headerCanonicalization)
        own.removeLast(2)  // the signature's own field without its CRLF
        data += own
        let valid = switch signature.algorithm {
        case .ed25519SHA256: DKIMCrypto.verifyEd25519(key: key.publicKey, data: SHA2.sha256(data), signature: signature.signature)
        default: DKIMCrypto.verifyRSASHA256(key: key.publicKey, data: data, signature: signature.signature)
        }
        guard valid else { return result(.fail, "the signature does not verify (a signed header field was changed, or the key is not the signer's)", testing: key.testing) }
        return result(.pass, "signed by \(signature.domain) (s=\(signature.selector))" + (whole ? "" : ", but l= leaves part of the body unsigned"), testing: key.testing)
    }

    /// The field's value with the `b=` tag's value removed, every other byte as it was (§3.7).
    static func withoutSignature(_ value: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(value.count)
        for (index, segment) in value.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false).enumerated() {
            if index > 0 { result.append(UInt8(ascii: ";")) }
            // The name may follow folding white space (CRLF and blanks).
            if let equals = segment.firstIndex(of: UInt8(ascii: "=")),
               segment[..<equals].filter({ ![0x20, 0x09, 0x0D, 0x0A].contains($0) }) == [UInt8(ascii: "b")] {
                result += segment[...equals]
            } else {
                result += segment
            }
        }
        return result
    }
}
