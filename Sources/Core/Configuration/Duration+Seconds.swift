extension Duration {
    /// The duration in seconds, fractions included: what SQL intervals (`$1 * interval '1 second'`) and
    /// `Date` arithmetic take.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
