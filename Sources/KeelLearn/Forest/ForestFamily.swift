import KeelData

/// Random forests (`"random_forest"`: bootstrap samples, best thresholds) and extra trees (`"extra_trees"`:
/// all rows, random thresholds), scikit-learn's two kinds of averaged trees. Two families of one learner.
public struct ForestFamily: LearnerFamily {
    public let name: String
    /// Extra trees: random thresholds on all rows.
    let extra: Bool

    public static let randomForest = ForestFamily(name: "random_forest", extra: false)
    public static let extraTrees = ForestFamily(name: "extra_trees", extra: true)

    public var relativeCost: Double { extra ? 1 : 2 }

    public var space: [Hyperparameter] {
        [
            Hyperparameter("trees", .integer(lower: 1, upper: 2_000), initial: 100, lowCost: 10),
            Hyperparameter("min_samples_leaf", .integer(lower: 1, upper: 200), initial: 1, lowCost: 20),
            Hyperparameter("max_depth", .integer(lower: 0, upper: 64), initial: 0),
            Hyperparameter("max_bins", .integer(lower: 2, upper: 255), initial: 255, lowCost: 63),
        ]
    }

    public var pinnableNames: [String] { ["trees", "min_samples_leaf", "max_depth", "max_bins"] }

    public func owns(_ learner: Learner) -> Bool {
        if case .randomForest(let p) = learner { p.randomThresholds == extra } else { false }
    }

    /// Rank 60 (random forest) and 80 (extra trees). Fully grown trees spend most of their time on tiny
    /// leaves; a few rows per leaf and 63 bins keep forests affordable inside a budget at little cost in
    /// accuracy. Under 2,000 rows extra trees are cheap even fully grown, and leaves of one row with more
    /// trees give the smoother probabilities small data needs (random forests gained nothing from the same).
    public func portfolio(for shape: DataShape) -> [PortfolioEntry] {
        var forest = ForestParameters()
        forest.trees = shape.rows > 50_000 ? 60 : 120
        forest.minSamplesLeaf = shape.rows > 5_000 ? 5 : 3
        forest.maxBins = 63
        guard extra else { return [PortfolioEntry(.randomForest(forest), summary: Self.describe(forest), rank: 60)] }
        let small = shape.rows < 2_000
        var trees = ForestParameters.extraTrees
        trees.trees = small ? 300 : forest.trees
        trees.minSamplesLeaf = small ? 1 : forest.minSamplesLeaf
        trees.maxBins = small ? 255 : forest.maxBins
        return [PortfolioEntry(.randomForest(trees), summary: Self.describe(trees), rank: 80)]
    }

    public func values(of learner: Learner) -> [String: Double] {
        guard case .randomForest(let p) = learner else { return [:] }
        return ["trees": Double(p.trees), "min_samples_leaf": Double(p.minSamplesLeaf), "max_depth": Double(p.maxDepth), "max_bins": Double(p.maxBins)]
    }

    public func describe(_ learner: Learner) -> String {
        guard case .randomForest(let p) = learner else { return "" }
        return Self.describe(p)
    }

    static func describe(_ p: ForestParameters) -> String { "\(p.trees) trees, min leaf \(p.minSamplesLeaf)" }

    public func pinning(_ learner: Learner, to settings: [String: Double]) -> Learner {
        guard case .randomForest(var p) = learner else { return learner }
        for (name, value) in settings {
            switch name {
            case "trees": p.trees = max(1, Int(value))
            case "min_samples_leaf": p.minSamplesLeaf = max(1, Int(value))
            case "max_depth": p.maxDepth = Int(value)
            case "max_bins": p.maxBins = min(255, max(2, Int(value)))
            default: break
            }
        }
        return .randomForest(p)
    }

    public func seeded(_ learner: Learner, _ seed: UInt64) -> Learner {
        guard case .randomForest(var p) = learner else { return learner }
        p.seed = seed
        return .randomForest(p)
    }

    public func binCount(_ learner: Learner) -> Int? {
        if case .randomForest(let p) = learner { p.maxBins } else { nil }
    }

    /// A full-depth tree has up to about 2 nodes per distinct training row (a bootstrap holds ~63%).
    public func memoryEstimate(_ learner: Learner, shape: DataShape) -> Int {
        guard case .randomForest(let p) = learner else { return 0 }
        let rows = shape.rows
        let rowsPerTree = p.bootstrap ? Int(Double(rows) * 0.64) : rows
        let nodesPerTree = 2 * max(rowsPerTree / max(p.minSamplesLeaf, 1), 1)
        return rows * shape.features + rows * 16 + p.trees * nodesPerTree * (32 + 8 * shape.outputs)
    }

    public func fit(_ learner: Learner, data: TrainingData, context: FitContext) throws -> FittedModel {
        guard case .randomForest(let p) = learner else { throw LearnError.invalidParameter("not a forest configuration: \(learner.family.name)") }
        return .forest(try RandomForest(parameters: p).fit(data.features, target: data.target, weights: data.weights, deadline: context.deadline,
                                                                 binned: data.binned))
    }
}
