import KeelData
import KeelLearn

/// The analyses of the chosen model a search report carries: permutation importance on the holdout and a
/// ranking of columns by attribution. The caller supplies them (KeelLifecycle's `ExplainingAnalyst` uses
/// KeelExplain), so the search does not depend on the explanation module; without one the report has none.
public protocol ModelAnalyst: Sendable {
    /// How much the metric worsens when each input column is shuffled, `repeats` times, on `frame` with the
    /// true targets `truth`; nil when `deadline` passes first.
    func permutationImportance(_ model: TrainedModel, frame: Frame, truth: [Double], repeats: Int, seed: UInt64,
                               deadline: ContinuousClock.Instant?) throws -> [FeatureImportance]?
    /// The input columns by mean absolute attribution on `frame`, most important first.
    func attributionRanking(_ model: TrainedModel, frame: Frame) throws -> [ColumnAttribution]
}
