import Foundation

/// The test world `Deploy/local/world.sh` started (real nsd with signed zones, real nginx with a test
/// CA), as described by its `world.env`; `make test` exports `PALISADE_TEST_WORLD` with its directory.
public struct TestWorld: Sendable {
    public let dnsPort: Int
    public let deadDNSPort: Int
    public let trustAnchorFile: String
    /// `zone=address@port` entries for the resolver's stub zones.
    public let stubZones: [String]
    /// `address@port` of a validating unbound daemon that knows the same zones, for forwarder mode.
    public let forwarder: String
    public let httpsPort: Int
    public let certificateAuthorityFile: String
    /// Where the WKD hosts serve from: `<wkdRoot>/<host>/.well-known/openpgpkey/…`.
    public let wkdRoot: String
    /// The plain-HTTP port nginx proxies `keys.secure.palisade.example` to: a test's VKS server listens there.
    public let vksBackendPort: Int
    /// The real Postfix speaking STARTTLS with the doctor MX certificate (`https/mx.pem`) on 127.0.0.1;
    /// nil when world.sh did not run as root (Postfix's master refuses to run otherwise).
    public let smtpPort: Int?
    /// The same Postfix's listener with `smtpd_milters = inet:127.0.0.1:<milterPort>`, and that milter port
    /// (free, for the test's palisade-transport); nil without root, like `smtpPort`.
    public let smtpMilterPort: Int?
    public let milterPort: Int?
    /// A listener of the same Postfix whose milters are `<milterPort>` and then OpenDMARC (Debian's opendmarc,
    /// authserv-id opendmarc.test.example, trusting the results of mx.test.example, no SPF check of its own,
    /// the Public Suffix List for organizational domains, never rejecting), holding every message it accepts;
    /// nil without root, or when OpenDMARC could not start (world.sh says why).
    public let smtpOpenDMARCPort: Int?

    public struct Missing: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The running world; without one the tests fail with a message saying how to start it.
    public static func current() throws -> TestWorld {
        guard let directory = ProcessInfo.processInfo.environment["PALISADE_TEST_WORLD"], !directory.isEmpty else {
            throw Missing(description: "PALISADE_TEST_WORLD is not set: run the tests with `make test`, which starts the DNS and HTTPS test world (Deploy/local/world.sh)")
        }
        let file = URL(fileURLWithPath: directory).appendingPathComponent("world.env")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw Missing(description: "\(file.path) is missing: is the test world running?")
        }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        func value(_ key: String) throws -> String {
            guard let value = values[key], !value.isEmpty else { throw Missing(description: "\(file.path) has no \(key)") }
            return value
        }
        return TestWorld(
            dnsPort: Int(try value("PALISADE_TEST_DNS_PORT")) ?? 0,
            deadDNSPort: Int(try value("PALISADE_TEST_DNS_DEAD_PORT")) ?? 0,
            trustAnchorFile: try value("PALISADE_TEST_DNS_ANCHOR"),
            stubZones: try value("PALISADE_TEST_DNS_STUBS").split(separator: ",").map(String.init),
            forwarder: try value("PALISADE_TEST_DNS_FORWARDER"),
            httpsPort: Int(try value("PALISADE_TEST_HTTPS_PORT")) ?? 0,
            certificateAuthorityFile: try value("PALISADE_TEST_HTTPS_CA"),
            wkdRoot: try value("PALISADE_TEST_WKD_ROOT"),
            vksBackendPort: Int(try value("PALISADE_TEST_VKS_BACKEND_PORT")) ?? 0,
            smtpPort: values["PALISADE_TEST_SMTP_PORT"].flatMap { Int($0) },
            smtpMilterPort: values["PALISADE_TEST_SMTP_MILTER_PORT"].flatMap { Int($0) },
            milterPort: values["PALISADE_TEST_MILTER_PORT"].flatMap { Int($0) },
            smtpOpenDMARCPort: values["PALISADE_TEST_SMTP_OPENDMARC_PORT"].flatMap { Int($0) }
        )
    }
}
