// The libFuzzer target for the OpenPGP parser: armor, packets, keys, signatures, certificates,
// validation, canonical writing, merging, WKD minimisation and secret-key reading, all on hostile bytes.
//
//   Fuzz/run.sh openpgp [SECONDS]      build with libFuzzer and the address sanitizer and fuzz, seeded from the test fixtures
//
// Built normally (without FUZZING), it is a replayer: `OpenPGPFuzzer FILE…` runs each file through the
// same entry point, so a crash found by the fuzzer becomes a regression test.
import Core
import FuzzSupport
import OpenPGP

/// One input through every stage; must never crash, hang or grow without bound.
func fuzzOne(_ bytes: [UInt8]) {
    // The production limits, with the input capped by -max_len.
    let limits = OpenPGPLimits.default
    _ = try? Armor.decode(bytes, limits: limits)
    // The keystore's secret-key reader: only the public parts and the S2K usage octet are read.
    if let secret = try? SecretKeyPackets.parse(bytes, limits: limits) {
        _ = secret.fingerprint
    }
    guard let certificates = try? Certificate.parse(bytes, limits: limits) else { return }
    for certificate in certificates.prefix(16) {
        let valid = certificate.validated(at: 1_800_000_000)
        _ = valid.status(at: 1_800_000_000)
        let written = valid.serialized
        // What we write must read back as the same certificate, and writing it again changes nothing.
        guard let reread = try? Certificate.parse(written, limits: limits), reread.count == 1, reread[0].fingerprint == valid.fingerprint else {
            fatalError("canonical output does not parse back")
        }
        guard reread[0].validated(at: 1_800_000_000).serialized == written else {
            fatalError("canonical output is not stable")
        }
        // Merging a certificate with itself (a re-import of the same copy) changes nothing.
        guard let merged = try? certificate.merged(with: certificate), merged.validated(at: 1_800_000_000).serialized == written else {
            fatalError("merging a certificate with itself changed it")
        }
        // A minimised certificate holds only User IDs with the asked address.
        for userID in valid.userIDs.prefix(4) {
            guard let address = userID.email, let minimised = valid.minimized(for: address) else { continue }
            guard let parsed = try? Certificate.parse(minimised, limits: limits), parsed.count == 1,
                  parsed[0].userIDs.allSatisfy({ $0.email == address }), parsed[0].userAttributes.isEmpty else {
                fatalError("minimised output holds more than the asked address")
            }
        }
    }
}

@main
struct Entry {
    static func main() {
        FuzzEntry.run(fuzzOne)
    }
}
