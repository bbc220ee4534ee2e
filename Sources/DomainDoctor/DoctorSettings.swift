import Core
import Foundation

/// The `doctor.*` settings of `platformctl doctor` and `platformctl dns records`: what our own domains'
/// records should say where the code cannot know it (which CAs we use, where reports go).
public enum DoctorSettings {
    public static let caaIssuers = ConfigSetting.stringList(
        "doctor.caa.issuers", default: [],
        "CA domain names allowed to issue our certificates (CAA issue/issuewild, RFC 8659), e.g. letsencrypt.org. Empty: the CAA check cannot judge and warns.",
        validate: { list in list.first { (try? DomainName($0)) == nil }.map { "\"\($0)\" is not a domain name" } }
    )
    public static let caaIodef = ConfigSetting.string(
        "doctor.caa.iodef", default: "",
        "Where CAs report refused requests (CAA iodef, RFC 8659 section 4.4): mailto: or https: URL; {domain} is replaced by the domain.",
        validate: { $0.isEmpty || $0.hasPrefix("mailto:") || $0.hasPrefix("https://") ? nil : "must start with mailto: or https://" }
    )
    public static let dmarcPolicy = ConfigSetting.string(
        "doctor.dmarc.policy", default: "reject",
        "The DMARC policy (p=) of the _dmarc record to publish: quarantine or reject.",
        validate: { ["quarantine", "reject"].contains($0) ? nil : "must be quarantine or reject" }
    )
    public static let dmarcReports = ConfigSetting.string(
        "doctor.dmarc.rua", default: "",
        "Where DMARC aggregate reports go (rua of the record to publish), e.g. mailto:dmarc@{domain}; empty: none requested.",
        validate: { $0.isEmpty || $0.hasPrefix("mailto:") ? nil : "must be a mailto: URI" }
    )
    public static let tlsrptReports = ConfigSetting.string(
        "doctor.tlsrpt.rua", default: "https://mta-sts.{domain}/v1/tlsrpt",
        "Where TLS reports go (rua of the _smtp._tls record to publish): by default palisade-transport's HTTPS intake (tlsrpt.path) on the MTA-STS host.",
        validate: { $0.hasPrefix("mailto:") || $0.hasPrefix("https://") ? nil : "must start with mailto: or https://" }
    )
    public static let nextCertificates = ConfigSetting.stringList(
        "doctor.dane.nextCertificates", default: [],
        "PEM files of the MX certificates (or keys' certificates) to be used next: their TLSA records are printed by dns records and expected during a roll-over."
    )
    public static let smtpPort = ConfigSetting.int(
        "doctor.smtpPort", default: 25, "TCP port of the STARTTLS probe of our MX hosts: 25; another value is for test worlds only.", range: 1...65535
    )
    public static let httpsPort = ConfigSetting.int(
        "doctor.httpsPort", default: 443,
        "TCP port of our MTA-STS, WKD and TLSRPT hosts: 443; another value is for test worlds only.", range: 1...65535
    )
    public static let allowPrivateAddresses = ConfigSetting.bool(
        "doctor.allowPrivateAddresses", default: false,
        "Whether our hosts may resolve to loopback and private addresses, which senders cannot reach: test worlds only."
    )
    public static let heloName = ConfigSetting.string(
        "doctor.heloName", default: "", "The name the STARTTLS probe says EHLO with; empty: this machine's host name.",
        validate: { $0.isEmpty || (try? DomainName($0)) != nil ? nil : "must be a domain name" }
    )
    public static let timeout = ConfigSetting.duration(
        "doctor.timeout", default: .seconds(15), "Longest one probe or fetch may take.", range: .seconds(1)...Duration.seconds(300)
    )
    public static let publicSuffixList = ConfigSetting.string(
        "doctor.publicSuffixList", default: "/usr/share/publicsuffix/public_suffix_list.dat",
        "The Public Suffix List, for DMARC's organisational domain (Debian: apt-get install publicsuffix)."
    )

    public static let all: [any AnyConfigSetting] = [
        caaIssuers, caaIodef, dmarcPolicy, dmarcReports, tlsrptReports, nextCertificates, smtpPort, httpsPort, allowPrivateAddresses, heloName, timeout, publicSuffixList,
    ]
}
