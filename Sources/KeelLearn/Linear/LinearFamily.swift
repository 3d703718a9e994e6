import Foundation
import KeelData

/// Ridge, lasso and elastic-net models by coordinate descent (`"linear"`): readable whole, and the
/// search's fallback when nothing else completes.
public struct LinearFamily: LearnerFamily {
    public init() {}

    public var name: String { "linear" }
    public var isInterpretable: Bool { true }
    public var acceptsMonotoneConstraints: Bool { true }
    public var relativeCost: Double { 0.5 }

    public var space: [Hyperparameter] {
        [
            Hyperparameter("lambda", .real(lower: 1e-6, upper: 10, logScale: true), initial: 1e-4),
            Hyperparameter("l1_ratio", .real(lower: 0, upper: 1, logScale: false), initial: 0),
            Hyperparameter("max_iterations", .integer(lower: 1, upper: 100_000), initial: 1000, lowCost: 100),
        ]
    }

    public var pinnableNames: [String] { ["lambda", "l1_ratio", "max_iterations"] }

    public func owns(_ learner: Learner) -> Bool {
        if case .linear = learner { true } else { false }
    }

    /// The portfolio's first ridge, which boosting on a linear base starts from too. Coefficient steps below
    /// 1e-4 (scaled by each column's curvature) no longer move a cross-validated score in its fourth decimal;
    /// on soybean's 19 classes the ridge fit took 2.2 s per fold at 1e-6, 0.8 s at 1e-4.
    public static var ridgeBase: LinearParameters {
        var p = LinearParameters()
        p.lambda = 1e-3
        p.tolerance = 1e-4
        return p
    }

    /// Ranks 40, 50 and 120. A pass costs rows × features × classes: on large products the entries run
    /// after the cheap ones.
    public func portfolio(for shape: DataShape) -> [PortfolioEntry] {
        let costly = shape.linearFitIsCostly
        var sparse = Self.ridgeBase
        sparse.lambda = 3e-3
        sparse.l1Ratio = 0.5
        var strong = Self.ridgeBase
        strong.lambda = 3e-2
        return [
            PortfolioEntry(.linear(Self.ridgeBase), summary: "λ=1e-3 ridge", rank: 40, costly: costly),
            PortfolioEntry(.linear(sparse), summary: "λ=3e-3 elastic net (ρ 0.5)", rank: 50, costly: costly),
            PortfolioEntry(.linear(strong), summary: "λ=3e-2 ridge", rank: 120, costly: costly),
        ]
    }

    public func values(of learner: Learner) -> [String: Double] {
        guard case .linear(let p) = learner else { return [:] }
        return ["lambda": p.lambda, "l1_ratio": p.l1Ratio, "max_iterations": Double(p.maxIterations)]
    }

    public func describe(_ learner: Learner) -> String {
        guard case .linear(let p) = learner else { return "" }
        let lambda = String(format: "%.0e", p.lambda).replacingOccurrences(of: "e-0", with: "e-")
        return p.l1Ratio == 0 ? "λ=\(lambda) ridge" : "λ=\(lambda) elastic net (ρ \(p.l1Ratio))"
    }

    public func pinning(_ learner: Learner, to settings: [String: Double]) -> Learner {
        guard case .linear(var p) = learner else { return learner }
        for (name, value) in settings {
            switch name {
            case "lambda": p.lambda = value
            case "l1_ratio": p.l1Ratio = min(1, value)
            case "max_iterations": p.maxIterations = max(1, Int(value))
            default: break
            }
        }
        return .linear(p)
    }

    /// Constraints become sign constraints on the coefficients.
    public func constrained(_ learner: Learner, _ constraints: [Int]) -> Learner? {
        guard case .linear(var p) = learner else { return nil }
        guard constraints.contains(where: { $0 != 0 }) else { return learner }
        p.signConstraints = constraints
        return .linear(p)
    }

    /// Coordinate descent draws nothing at random.
    public func seeded(_ learner: Learner, _ seed: UInt64) -> Learner { learner }

    public func memoryEstimate(_ learner: Learner, shape: DataShape) -> Int {
        shape.rows * shape.features * 8 * 2 + shape.rows * shape.outputs * 8 * 4
    }

    public func fit(_ learner: Learner, data: TrainingData, context: FitContext) throws -> FittedModel {
        guard case .linear(let p) = learner else { throw LearnError.invalidParameter("not a linear configuration: \(learner.family.name)") }
        return .linear(try LinearLearner(parameters: p).fit(data.features, target: data.target, weights: data.weights, deadline: context.deadline))
    }
}
