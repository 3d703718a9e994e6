import KeelMonitor

/// Bias limits a binary model must meet on its holdout before production (a promotion gate), per model
/// in the registry's keel.yaml (`models.NAME.fairness`).
public struct FairnessGate: Sendable {
    /// The columns whose groups are compared.
    public var attributes: [String]
    public var thresholds: FairnessThresholds

    public init(attributes: [String], thresholds: FairnessThresholds = FairnessThresholds()) {
        (self.attributes, self.thresholds) = (attributes, thresholds)
    }
}

/// When `keel retrain NAME` retrains (`models.NAME.retrain`): drift on enough features, performance decay,
/// or age; and over which window of the prediction log, with which budget.
public struct RetrainPolicy: Sendable {
    /// Retrain when at least this many features drifted in the logged window.
    public var driftFeatures: Int?
    /// Retrain when labelled performance is this much worse than the holdout, relative (0.05: 5%).
    public var performanceDrop: Double?
    /// Retrain when the production model is older than this many seconds.
    public var every: Double?
    /// The logged window to judge and to learn from, in seconds (default 7 days).
    public var window: Double = 7 * 86_400
    /// The training budget in seconds (default 60).
    public var time: Double = 60

    public init() {}
}
