import KeelLearn

/// The value screen's verdict: whether the pipeline also gives trees the values of categorical columns whose
/// levels are numbers (`LevelValues`).
///
/// Codes such as 1–3, which schema inference reads as categories, can only be split one level against the
/// rest or in groups of 100 rows; their values let trees cut between neighbouring codes. That helps where
/// the codes are ordered and the data small, and costs a little where they are not (bench/RESULTS.md,
/// "Evidence behind search and feature rules"). So it is measured
/// as the column screen measures a column: the probe cross-validated on the same folds with and without the
/// values, which are kept when it scores better with them.
public struct ValueScreen: Codable, Sendable, Equatable {
    /// The categorical columns whose levels are all numbers.
    public var columns: [String]
    /// The probe's cross-validated score with the values and without them.
    public var scoreWith: Double
    public var scoreWithout: Double
    public var kept: Bool

    init(columns: [String], with: TrialResult, without: TrialResult, metric: Metric) {
        (self.columns, scoreWith, scoreWithout) = (columns, with.mean, without.mean)
        kept = metric.error(with.mean) < metric.error(without.mean)
    }

    /// "added the values of 19 categorical columns whose levels are numbers (probe log_loss 0.2088 with them, 0.2701 without)".
    func summary(_ metric: Metric) -> String {
        "\(kept ? "added" : "left out") the values of \(columns.count) categorical column\(columns.count == 1 ? "" : "s") whose levels are numbers (probe \(metric.rawValue) \(Search.format(scoreWith)) with them, \(Search.format(scoreWithout)) without)"
    }
}
