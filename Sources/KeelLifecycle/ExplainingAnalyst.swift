import KeelData
import KeelExplain
import KeelLearn
import KeelSearch

/// The search report's analyses by KeelExplain: permutation importance on the holdout and the columns
/// ranked by mean absolute attribution (TreeSHAP or the exact linear and EBM terms).
public struct ExplainingAnalyst: ModelAnalyst {
    public init() {}

    public func permutationImportance(_ model: TrainedModel, frame: Frame, truth: [Double], repeats: Int, seed: UInt64,
                                      deadline: ContinuousClock.Instant?) throws -> [FeatureImportance]? {
        try PermutationImportance.compute(model: model, frame: frame, truth: truth, repeats: repeats, seed: seed, deadline: deadline)
    }

    public func attributionRanking(_ model: TrainedModel, frame: Frame) throws -> [ColumnAttribution] {
        ColumnAttribution.ranking(try Explainer.attributions(model, frame: frame))
    }
}
