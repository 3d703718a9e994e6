import KeelData

/// Explainable boosting machines (`"ebm"`): one shape function per feature and a few pair terms, readable
/// whole, as InterpretML's.
public struct ExplainableBoostingFamily: LearnerFamily {
    public init() {}

    public var name: String { "ebm" }
    public var isInterpretable: Bool { true }
    public var acceptsMonotoneConstraints: Bool { true }
    public var relativeCost: Double { 4 }

    public var space: [Hyperparameter] {
        [
            Hyperparameter("learning_rate", .real(lower: 0.001, upper: 0.5, logScale: true), initial: 0.02),
            Hyperparameter("max_rounds", .integer(lower: 1, upper: 20_000), initial: 2000, lowCost: 200),
            Hyperparameter("outer_bags", .integer(lower: 1, upper: 32), initial: 4, lowCost: 1),
            Hyperparameter("interactions", .integer(lower: 0, upper: 64), initial: 10, lowCost: 0),
            Hyperparameter("max_bins", .integer(lower: 2, upper: 255), initial: 255, lowCost: 63),
        ]
    }

    public var pinnableNames: [String] { ["learning_rate", "max_rounds", "outer_bags", "interactions", "max_bins"] }

    public func owns(_ learner: Learner) -> Bool {
        if case .explainableBoosting = learner { true } else { false }
    }

    /// Rank 100; costly with many classes or a large rows × features product (its pair terms).
    public func portfolio(for shape: DataShape) -> [PortfolioEntry] {
        let p = ExplainableBoostingParameters()
        return [PortfolioEntry(.explainableBoosting(p), summary: Self.describe(p), rank: 100,
                               costly: shape.task == .multiclass || shape.work > 2_000_000)]
    }

    public func values(of learner: Learner) -> [String: Double] {
        guard case .explainableBoosting(let p) = learner else { return [:] }
        return ["learning_rate": p.learningRate, "max_rounds": Double(p.maxRounds), "outer_bags": Double(p.outerBags),
                "interactions": Double(p.interactions), "max_bins": Double(p.maxBins)]
    }

    public func describe(_ learner: Learner) -> String {
        guard case .explainableBoosting(let p) = learner else { return "" }
        return Self.describe(p)
    }

    static func describe(_ p: ExplainableBoostingParameters) -> String {
        "lr \(p.learningRate), \(p.outerBags) bags, \(p.interactions) pairs"
    }

    public func pinning(_ learner: Learner, to settings: [String: Double]) -> Learner {
        guard case .explainableBoosting(var p) = learner else { return learner }
        for (name, value) in settings {
            switch name {
            case "learning_rate": p.learningRate = min(1, value)
            case "max_rounds": p.maxRounds = max(1, Int(value))
            case "outer_bags": p.outerBags = max(1, Int(value))
            case "interactions": p.interactions = Int(value)
            case "max_bins": p.maxBins = min(255, max(2, Int(value)))
            default: break
            }
        }
        return .explainableBoosting(p)
    }

    public func constrained(_ learner: Learner, _ constraints: [Int]) -> Learner? {
        guard case .explainableBoosting(var p) = learner else { return nil }
        guard constraints.contains(where: { $0 != 0 }) else { return learner }
        p.monotoneConstraints = constraints
        return .explainableBoosting(p)
    }

    public func seeded(_ learner: Learner, _ seed: UInt64) -> Learner {
        guard case .explainableBoosting(var p) = learner else { return learner }
        p.seed = seed
        return .explainableBoosting(p)
    }

    public func binCount(_ learner: Learner) -> Int? {
        if case .explainableBoosting(let p) = learner { p.maxBins } else { nil }
    }

    public func memoryEstimate(_ learner: Learner, shape: DataShape) -> Int {
        guard case .explainableBoosting(let p) = learner else { return 0 }
        let pairs = p.interactions * 256 * 256 * 8 * shape.outputs
        return shape.rows * shape.features * 2 + shape.rows * shape.outputs * 8 * 3 * max(p.outerBags, 1) + pairs
    }

    public func fit(_ learner: Learner, data: TrainingData, context: FitContext) throws -> FittedModel {
        guard case .explainableBoosting(let p) = learner else { throw LearnError.invalidParameter("not an EBM configuration: \(learner.family.name)") }
        return .explainableBoosting(try ExplainableBoosting(parameters: p).fit(data.features, target: data.target, weights: data.weights,
                                                                             deadline: context.deadline, binned: data.binned))
    }
}
