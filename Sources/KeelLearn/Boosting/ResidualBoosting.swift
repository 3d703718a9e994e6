import KeelData

/// Boosted trees grown on what a linear model leaves over. Trees approximate a straight line by steps, so
/// where the target grows steadily with a few inputs (a taxi fare with distance and minutes) they need many
/// leaves to do badly what one coefficient does well; with the line taken first, the trees spend their
/// splits on the rest (LightGBM's `init_score` from a ridge model).
///
/// The result is a stack of the two models with weights 1 and no intercept, so predicting, explaining
/// (linear attributions plus TreeSHAP, exactly additive) and saving are an ensemble's, with no new format.
public struct ResidualBoosting: Sendable {
    /// Boosting parameters whose `linearBase` is set.
    public var parameters: GradientBoostingParameters

    public init(parameters: GradientBoostingParameters) {
        self.parameters = parameters
    }

    /// Fits the linear model on the training rows, then the trees from its margins; early stopping (with
    /// `validation`) judges the sum of both on the held-out rows.
    public func fit(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]? = nil,
                    validation: GradientBoosting.Validation? = nil, deadline: ContinuousClock.Instant? = nil,
                    binned: BinnedMatrix? = nil) throws -> EnsembleModel {
        guard let linearParameters = parameters.linearBase else {
            throw LearnError.invalidParameter("residual boosting needs linear base parameters")
        }
        var constrained = linearParameters
        if let monotone = parameters.monotoneConstraints { constrained.signConstraints = monotone }
        let linear = try LinearLearner(parameters: constrained).fit(features, target: target, weights: weights, deadline: deadline)
        let outputs = target.task.kind == .multiclass ? target.classCount : 1
        let base = GradientBoosting.BaseMargins(
            train: Self.outputMajor(try linear.rawScores(features), outputs: outputs),
            validation: try validation.map { Self.outputMajor(try linear.rawScores($0.features), outputs: outputs) } ?? [])
        let trees = try GradientBoosting(parameters: parameters).fit(features, target: target, weights: weights, validation: validation,
                                                                     base: base, deadline: deadline, binned: binned)
        return try EnsembleModel(task: target.task.kind, outputs: outputs, members: [.linear(linear), .gradientBoosting(trees)],
                                 weights: [1, 1], intercepts: [Double](repeating: 0, count: outputs))
    }

    /// Row-major margins (one row's outputs together) as the booster keeps them (one output's rows together).
    static func outputMajor(_ margins: [Double], outputs: Int) -> [Double] {
        guard outputs > 1 else { return margins }
        let rows = margins.count / outputs
        return (0..<margins.count).map { margins[($0 % rows) * outputs + $0 / rows] }
    }
}
