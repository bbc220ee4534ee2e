// OpenPGP benchmark: parse a keyring, validate every certificate (verify every self-signature), and
// write each canonical certificate out again; prints certificates per second.
//
//   OpenPGPBenchmark KEYRING [ROUNDS]
import Foundation
import OpenPGP

let arguments = CommandLine.arguments
guard arguments.count >= 2, let data = FileManager.default.contents(atPath: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: OpenPGPBenchmark KEYRING [ROUNDS]\n".utf8))
    exit(64)
}
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
let bytes = Array(data)
let now = UInt32(Date().timeIntervalSince1970)
for round in 1...rounds {
    for parallel in [false, true] {
        let start = ContinuousClock.now
        let certificates = try Certificate.parse(bytes, limits: OpenPGPLimits(maximumInputSize: 1 << 30, maximumPackets: 10_000_000))
        let valid = parallel ? Certificate.validated(certificates, at: now) : certificates.map { $0.validated(at: now) }
        var written = 0
        for certificate in valid { written += certificate.serialized.count }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "openpgp palisade threads=%@ round=%d certificates=%d user_ids=%d bytes_written=%d seconds=%.2f certs_per_sec=%.0f",
                     parallel ? "all" : "1", round, certificates.count, valid.reduce(0) { $0 + $1.userIDs.count }, written, seconds,
                     Double(certificates.count) / seconds))
    }
}
