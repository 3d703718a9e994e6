extension Duration {
    /// The duration in seconds, for reports, budgets and progress.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
