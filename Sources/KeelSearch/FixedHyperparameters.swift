import KeelLearn

/// Expert overrides: hyperparameters pinned per learner family (from the `hyperparameters:` section of a
/// train config). Every configuration the search tries for that family, portfolio or variation, takes the
/// pinned values; the rest stay searched.
public struct FixedHyperparameters: Sendable, Equatable {
    public private(set) var values: [String: [String: Double]] = [:]

    /// The names each family accepts, as written in config files.
    public static let names: [String: [String]] = [
        "gbdt": ["rounds", "learning_rate", "max_leaves", "max_depth", "min_child_samples", "lambda_l1", "lambda_l2",
                 "min_split_gain", "row_subsample", "column_subsample", "max_bins", "early_stopping_rounds", "symmetric_depth",
                 "linear_base"],
        "random_forest": ["trees", "min_samples_leaf", "max_depth", "max_bins"],
        "extra_trees": ["trees", "min_samples_leaf", "max_depth", "max_bins"],
        "linear": ["lambda", "l1_ratio", "max_iterations"],
    ]

    public init() {}

    /// Checks every family and name, so a typo is an error naming it rather than a silently ignored setting.
    public init(_ values: [String: [String: Double]]) throws {
        for (family, settings) in values {
            guard let allowed = Self.names[family] else {
                throw SearchError.invalidInput("hyperparameters: '\(family)' is not a family with fixable settings; the families are \(Self.names.keys.sorted().joined(separator: ", "))")
            }
            for (name, value) in settings {
                guard allowed.contains(name) else {
                    throw SearchError.invalidInput("hyperparameters.\(family): unknown setting '\(name)'; it takes \(allowed.joined(separator: ", "))")
                }
                guard value.isFinite, value >= 0 else { throw SearchError.invalidInput("hyperparameters.\(family).\(name) must be a non-negative number") }
            }
        }
        self.values = values
    }

    public var isEmpty: Bool { values.isEmpty }

    /// `candidate` with the pinned values of its family applied.
    func apply(_ candidate: Portfolio.Candidate) -> Portfolio.Candidate {
        guard let settings = values[candidate.family], !settings.isEmpty else { return candidate }
        var copy = candidate
        switch candidate.learner {
        case .gradientBoosting(var p):
            // Pinned leaves or depth describe leaf-wise trees: symmetric candidates become leaf-wise ones.
            if p.symmetricDepth != nil, settings["symmetric_depth"] == nil, settings["max_leaves"] != nil || settings["max_depth"] != nil {
                p.symmetricDepth = nil
                p.minChildSamples = GradientBoostingParameters().minChildSamples
            }
            for (name, value) in settings {
                switch name {
                case "rounds": p.rounds = max(1, Int(value))
                case "learning_rate": p.learningRate = value
                case "max_leaves": p.maxLeaves = max(2, Int(value))
                case "max_depth": p.maxDepth = Int(value)
                case "min_child_samples": p.minChildSamples = Int(value)
                case "lambda_l1": p.lambdaL1 = value
                case "lambda_l2": p.lambdaL2 = value
                case "min_split_gain": p.minSplitGain = value
                case "row_subsample": p.rowSubsample = min(1, value)
                case "column_subsample": p.columnSubsample = min(1, value)
                case "max_bins": p.maxBins = min(255, max(2, Int(value)))
                case "early_stopping_rounds": p.earlyStoppingRounds = Int(value)
                // 0 pins leaf-wise trees; 1 to 10 symmetric ones of that depth.
                case "symmetric_depth": p.symmetricDepth = value >= 1 ? min(10, Int(value)) : nil
                // 0 pins trees from a constant; 1 trees on the portfolio's ridge base.
                case "linear_base": p.linearBase = value >= 1 ? (p.linearBase ?? Portfolio.ridgeBase) : nil
                default: break
                }
            }
            copy.learner = .gradientBoosting(p)
            copy.summary = Portfolio.describe(p)
        case .randomForest(var p):
            for (name, value) in settings {
                switch name {
                case "trees": p.trees = max(1, Int(value))
                case "min_samples_leaf": p.minSamplesLeaf = max(1, Int(value))
                case "max_depth": p.maxDepth = Int(value)
                case "max_bins": p.maxBins = min(255, max(2, Int(value)))
                default: break
                }
            }
            copy.learner = .randomForest(p)
            copy.summary = "\(p.trees) trees, min leaf \(p.minSamplesLeaf)"
        case .linear(var p):
            for (name, value) in settings {
                switch name {
                case "lambda": p.lambda = value
                case "l1_ratio": p.l1Ratio = min(1, value)
                case "max_iterations": p.maxIterations = max(1, Int(value))
                default: break
                }
            }
            copy.learner = .linear(p)
        case .explainableBoosting:
            break
        }
        copy.summary += " (fixed: \(settings.keys.sorted().joined(separator: ", ")))"
        return copy
    }
}
