// The libFuzzer target for the mail transport policy parsers: Postfix socketmap requests (netstrings) and
// their look-up keys, milter packets,
// MTA-STS, TLSRPT, DMARC and SPF TXT records (SPF's macro strings too), DKIM signatures, key records and body
// canonicalization (as one record and as a TXT answer of several), MTA-STS policy files, with
// their mx patterns matched, and certificates as an MX presents them to the doctor's STARTTLS probe (DER, and PEM
// as libcurl hands them over), all on hostile bytes.
//
//   Fuzz/run.sh mail-policy [SECONDS]      build with libFuzzer and the address sanitizer and fuzz, seeded from Seeds/
//
// Built normally (without FUZZING), it is a replayer: `MailPolicyFuzzer FILE…`.
import Core
import FuzzSupport
import HTTPFetch
import MailPolicy

func fuzzOne(_ bytes: [UInt8]) {
    // A socketmap connection's bytes, request after request, as the daemon reads them.
    var rest = bytes[...]
    while !rest.isEmpty {
        switch Socketmap.parse(rest) {
        case .request(let request, let length):
            precondition(length > 0 && length <= rest.count, "a request's length is within the bytes")
            // The look-up key as the daemon classifies it: a destination is always a valid domain name.
            if case .domain(let domain) = TransportKey(request.key) {
                precondition(!domain.ascii.isEmpty && !domain.ascii.hasPrefix("."), "\(domain) is a destination")
            }
            rest = rest.dropFirst(length)
        case .badRequest(_, let length):
            precondition(length > 0 && length <= rest.count, "a request's length is within the bytes")
            rest = rest.dropFirst(length)
        case .incomplete, .broken:
            rest = []
        }
    }
    // A milter connection's bytes, packet after packet, as the milter listener reads them.
    var packets = bytes[...]
    while let (command, length) = try? MilterProtocol.parse(packets) {
        precondition(length >= 5 && length <= packets.count, "a packet's length is within the bytes")
        if case .body(let chunk) = command { precondition(chunk.count < length, "a body chunk is inside its packet") }
        packets = packets.dropFirst(length)
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let record = try? MTASTSRecord.parse(text) {
        precondition((1...32).contains(record.id.utf8.count), "an id is 1 to 32 characters")
    }
    _ = MTASTSRecord.discover(text.split(separator: "\n").map(String.init))
    if let record = try? TLSRPTRecord.parse(text) {
        precondition(!record.destinations.isEmpty, "a TLSRPT record has a destination")
    }
    _ = TLSRPTRecord.discover(text.split(separator: "\n").map(String.init))
    for asReceiver in [false, true] {
        if let record = try? DMARCRecord.parse(text, asReceiver: asReceiver) {
            precondition((0...100).contains(record.percent), "pct is 0 to 100")
            precondition(!record.aggregateReports.contains { !$0.contains(":") }, "a report address is a URI")
            // A strict reading that succeeds is what a receiver reads too.
            if !asReceiver, record.policy != nil { precondition((try? DMARCRecord.parse(text, asReceiver: true)) == record, "strict and receiver readings agree on a valid record with p") }
        }
        _ = DMARCRecord.discover(text.split(separator: "\n").map(String.init), asReceiver: asReceiver)
    }
    if let record = try? SPFRecord.parse(text) {
        precondition(SPFRecord.isSPF(text), "a parsed SPF record starts with v=spf1")
        precondition(record.directives.count <= text.utf8.count, "a directive takes at least a byte")
    }
    _ = try? SPFMacroString(text)
    if let signature = try? DKIMSignature.parse(text) {
        precondition(signature.signedHeaders.contains("from"), "a DKIM signature signs From")
    }
    _ = try? DKIMKeyRecord.parse(text)
    for mode in [DKIMSignature.Canonicalization.simple, .relaxed] {
        let body = DKIMCanonicalization.body(bytes, mode)
        precondition(body.isEmpty || body.suffix(2) == [13, 10], "a canonical body ends in CRLF")
    }
    if let certificate = try? PeerCertificate(der: bytes) {
        precondition(!certificate.subjectPublicKeyInfo.isEmpty, "a certificate has a key")
    }
    _ = try? PeerCertificate.chain(pem: text)
    if let policy = try? MTASTSPolicy.parse(bytes) {
        precondition(policy.maxAge <= MTASTSPolicy.maximumAge, "max_age is capped")
        precondition(policy.mode == .none || !policy.mx.isEmpty, "an enforcing or testing policy names an mx")
        for pattern in policy.mx.prefix(8) {
            // Every pattern matches the host it describes (a wildcard: one label more).
            let host = pattern.isWildcard ? "mx." + pattern.domain.ascii : pattern.domain.ascii
            if let name = try? DomainName(host) { precondition(pattern.matches(name), "\(pattern) does not match \(host)") }
        }
    }
}

@main
struct Entry {
    static func main() {
        FuzzEntry.run(fuzzOne)
    }
}
