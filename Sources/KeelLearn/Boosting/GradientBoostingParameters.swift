/// Hyperparameters of gradient-boosted trees, with LightGBM's defaults and names in its documentation's terms.
public struct GradientBoostingParameters: Codable, Sendable, Equatable {
    /// nil picks from the task: binary, multiclass, or l2 for regression.
    public var objective: Objective?
    /// Boosting rounds (`num_iterations`).
    public var rounds = 100
    public var learningRate = 0.1
    /// `num_leaves`.
    public var maxLeaves = 31
    /// 0 means no limit.
    public var maxDepth = 0
    /// `min_data_in_leaf`.
    public var minChildSamples = 20
    /// `min_sum_hessian_in_leaf`.
    public var minChildHessian = 1e-3
    public var lambdaL1 = 0.0
    public var lambdaL2 = 0.0
    /// `min_gain_to_split`.
    public var minSplitGain = 0.0
    /// Share of rows drawn, without replacement, for each round (`bagging_fraction` with `bagging_freq` 1).
    public var rowSubsample = 1.0
    /// Share of features drawn for each tree (`feature_fraction`).
    public var columnSubsample = 1.0
    /// Value bins per feature (`max_bin`), at most 255.
    public var maxBins = 255
    /// Stop when the validation loss has not improved for this many rounds; 0 turns early stopping off.
    public var earlyStoppingRounds = 0
    public var huberDelta = 1.0
    public var categoricalSmoothing = 10.0
    public var categoricalL2 = 10.0
    public var maxCategoriesPerSplit = 32
    public var minRowsPerCategoryGroup = 100
    public var maxCategoriesForOneVsRest = 4
    public var seed: UInt64 = 0
    /// Per feature: +1 when predictions must not fall as it rises, −1 when they must not rise, 0 when free.
    public var monotoneConstraints: [Int]?
    /// Grow symmetric (oblivious) trees of this depth, CatBoost's kind: one split per level shared by all of
    /// its nodes, 2^depth leaves (`maxLeaves` and `maxDepth` then do not apply). nil: leaf-wise growth.
    public var symmetricDepth: Int?
    /// Fit this linear model first and grow the trees on what it leaves over (`ResidualBoosting`). nil: the
    /// trees start from the objective's constant, as in LightGBM.
    public var linearBase: LinearParameters?

    public init() {}

    /// The most leaves a tree may have: 2^depth for symmetric trees, else `maxLeaves`.
    public var leafLimit: Int { symmetricDepth.map { 1 << $0 } ?? maxLeaves }

    /// - Throws: `LearnError.invalidParameter` naming the first value out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw LearnError.invalidParameter(message) }
        }
        try check(rounds >= 1, "rounds must be at least 1, not \(rounds)")
        try check(learningRate > 0 && learningRate.isFinite, "learning rate must be positive, not \(learningRate)")
        try check(maxLeaves >= 2, "max leaves must be at least 2, not \(maxLeaves)")
        try check(maxDepth >= 0, "max depth must be 0 (no limit) or positive, not \(maxDepth)")
        try check(minChildSamples >= 1, "min child samples must be at least 1, not \(minChildSamples)")
        try check(minChildHessian >= 0, "min child hessian must not be negative, not \(minChildHessian)")
        try check(lambdaL1 >= 0 && lambdaL2 >= 0, "L1 and L2 penalties must not be negative")
        try check(minSplitGain >= 0, "min split gain must not be negative, not \(minSplitGain)")
        try check(rowSubsample > 0 && rowSubsample <= 1, "row subsample must be in (0, 1], not \(rowSubsample)")
        try check(columnSubsample > 0 && columnSubsample <= 1, "column subsample must be in (0, 1], not \(columnSubsample)")
        try check(maxBins >= 2 && maxBins <= maximumValueBins, "max bins must be between 2 and \(maximumValueBins), not \(maxBins)")
        try check(earlyStoppingRounds >= 0, "early stopping rounds must not be negative, not \(earlyStoppingRounds)")
        try check(huberDelta > 0, "huber delta must be positive, not \(huberDelta)")
        try check(maxCategoriesPerSplit >= 1 && minRowsPerCategoryGroup >= 1 && maxCategoriesForOneVsRest >= 1,
                  "categorical split limits must be at least 1")
        if let depth = symmetricDepth {
            try check((1...10).contains(depth), "symmetric depth must be between 1 and 10, not \(depth)")
            try check(!(monotoneConstraints ?? []).contains { $0 != 0 }, "symmetric trees cannot honour monotone constraints")
        }
        try linearBase?.validate()
    }

    var treeParameters: TreeGrower.Parameters {
        var split = SplitFinder.Parameters()
        split.lambdaL1 = lambdaL1
        split.lambdaL2 = lambdaL2
        split.minChildRows = minChildSamples
        split.minChildHessian = minChildHessian
        split.minSplitGain = minSplitGain
        split.categoricalSmoothing = categoricalSmoothing
        split.categoricalL2 = categoricalL2
        split.maxCategoriesPerSplit = maxCategoriesPerSplit
        split.minRowsPerCategoryGroup = minRowsPerCategoryGroup
        split.maxCategoriesForOneVsRest = maxCategoriesForOneVsRest
        var parameters = TreeGrower.Parameters(maxLeaves: maxLeaves, maxDepth: maxDepth, split: split)
        parameters.monotone = monotoneConstraints ?? []
        parameters.symmetricDepth = symmetricDepth ?? 0
        return parameters
    }
}
