import Core
import DNS

extension DomainDoctor {
    /// The zone validates as secure: the domain's MX answer (or its proof that there is none) is signed
    /// up to the trust anchor. Without it MTA-STS still works, but DANE and CAA's protection do not.
    func checkDNSSEC(_ domain: DomainName, mx: Result<DNSAnswer<MXRecord>, DNSError>) -> DoctorFinding {
        switch mx {
        case .failure(let error):
            return DoctorFinding("dnssec", .fail, "the look-up failed: \(error)", fix: "make the domain's name servers answer")
        case .success(let answer):
            switch answer.security {
            case .secure:
                return DoctorFinding("dnssec", .pass, "the zone validates: answers are DNSSEC-signed up to the trust anchor")
            case .insecure:
                return DoctorFinding("dnssec", .fail, "the zone is not signed (or its parent has no DS record): answers are insecure, so DANE cannot apply",
                                     fix: "sign the zone and publish its DS record at the parent (the registrar)")
            case .bogus(let reason):
                return DoctorFinding("dnssec", .fail, "answers fail validation (bogus): \(reason); validating resolvers see the domain as broken",
                                     fix: "re-sign the zone (expired signatures?) and check that the DS at the parent matches a key in the zone")
            case .indeterminate:
                return DoctorFinding("dnssec", .fail, "no answer to validate (\(answer.rcode))", fix: "make the domain's name servers answer")
            }
        }
    }
}
