import MailPolicy
import Metrics

/// Prometheus series of the transport daemon: answers by kind and whether memory had the entry, and the
/// results of MTA-STS and DANE checks (fetch failures among them).
enum TransportMetrics {
    /// Made once: a look-up answered from memory should not pay for the metrics registry's lock and map.
    static let answers: [TransportAnswer.Kind: (cached: Counter, fresh: Counter)] = Dictionary(uniqueKeysWithValues: TransportAnswer.Kind.allCases.map { kind in
        (kind, (Counter(label: "palisade_transport_answers_total", dimensions: [("kind", kind.rawValue), ("cached", "true")]),
                Counter(label: "palisade_transport_answers_total", dimensions: [("kind", kind.rawValue), ("cached", "false")])))
    })

    @discardableResult
    static func answered(_ answer: TransportAnswer, cached: Bool) -> TransportAnswer {
        if let counters = answers[answer.kind] { (cached ? counters.cached : counters.fresh).increment() }
        return answer
    }

    static func checked(_ entry: TransportPolicyEntry) {
        checked(sts: entry.sts)
        checked(dane: entry.dane)
    }

    static func checked(sts state: MTASTSState) {
        Counter(label: "palisade_transport_checks_total", dimensions: [("half", "mta-sts"), ("result", state.lastCheck.rawValue)]).increment()
        if state.lastCheck == .fetchFailed {
            Counter(label: "palisade_transport_policy_fetch_failures_total").increment()
        }
    }

    static func checked(dane state: DANEState) {
        let result = state.lastError != nil && state.result.status != .failed ? "failed-kept" : state.result.status.rawValue
        Counter(label: "palisade_transport_checks_total", dimensions: [("half", "dane"), ("result", result)]).increment()
    }
}
