/// When a domain's day of reports is bad enough to say so.
public struct TLSReportAlerting: Sendable, Equatable {
    public var failureRatio: Double
    public var minimumSessions: Int64

    public init(failureRatio: Double, minimumSessions: Int64) {
        self.failureRatio = failureRatio
        self.minimumSessions = minimumSessions
    }

    /// Enough sessions, and too many of them failed.
    public func isAlarming(_ totals: TLSReportStore.DayTotals) -> Bool {
        totals.sessions >= Double(minimumSessions) && totals.failureRatio > failureRatio
    }
}
