import Foundation
import KeelData

/// Gradient-boosted trees (`"gbdt"`): leaf-wise trees as LightGBM grows them, symmetric trees as CatBoost's,
/// and trees on a ridge model's margins. The family the local search varies.
public struct BoostingFamily: LearnerFamily {
    public init() {}

    public var name: String { "gbdt" }
    public var acceptsMonotoneConstraints: Bool { true }
    public var searchesLocally: Bool { true }

    public var space: [Hyperparameter] {
        [
            Hyperparameter("rounds", .integer(lower: 1, upper: 10_000), initial: 100, lowCost: 20),
            Hyperparameter("learning_rate", .real(lower: 0.01, upper: 0.3, logScale: true), initial: 0.1),
            Hyperparameter("max_leaves", .integer(lower: 4, upper: 255), initial: 31, lowCost: 4),
            Hyperparameter("min_child_samples", .integer(lower: 1, upper: 200), initial: 20),
            Hyperparameter("lambda_l2", .choice([0, 0.1, 1, 3, 5, 10]), initial: 0),
            Hyperparameter("column_subsample", .choice([0.5, 0.7, 0.8, 0.85, 1]), initial: 1),
            Hyperparameter("row_subsample", .choice([0.7, 0.8, 0.85, 1]), initial: 1),
            Hyperparameter("symmetric_depth", .integer(lower: 3, upper: 8), initial: 6),
        ]
    }

    public var pinnableNames: [String] {
        ["rounds", "learning_rate", "max_leaves", "max_depth", "min_child_samples", "lambda_l1", "lambda_l2",
         "min_split_gain", "row_subsample", "column_subsample", "max_bins", "early_stopping_rounds", "symmetric_depth", "linear_base"]
    }

    public func owns(_ learner: Learner) -> Bool {
        if case .gradientBoosting = learner { true } else { false }
    }

    /// Ranks 10–30 and 70, 90, 110–140: boosting opens the search and returns between the other families.
    /// From 10,000 rows a high-capacity configuration (127 leaves) joins early: large tables reward deep
    /// interactions.
    public func portfolio(for shape: DataShape) -> [PortfolioEntry] {
        var entries = [
            entry(rank: 10, rounds: 300, learningRate: 0.1, leaves: 15, stopping: 30),
            // LightGBM's defaults, rounds set rather than found: a floor no search result should fall below.
            entry(rank: 20, rounds: 100, learningRate: 0.1, leaves: 31),
        ]
        if shape.rows >= 10_000 {
            entries.append(entry(rank: 25, rounds: 2000, learningRate: 0.1, leaves: 127, columns: 0.8, stopping: 40))
        }
        // CatBoost's kind of tree with its defaults (depth 6, L2 3): balanced trees regularise differently
        // from leaf-wise ones and win on some tables. Not for many classes: every class's tree has up to
        // 2^depth leaves each round, which costs the time a blend or the refit on all rows needs.
        if shape.task != .multiclass {
            var p = GradientBoostingParameters()
            p.symmetricDepth = 6
            p.rounds = 3000
            p.learningRate = 0.05
            p.minChildSamples = 1
            p.lambdaL2 = 3
            p.earlyStoppingRounds = 60
            entries.append(PortfolioEntry(.gradientBoosting(p), summary: Self.describe(p), rank: 30))
        }
        entries.append(entry(rank: 70, rounds: 2000, learningRate: 0.05, leaves: 31, columns: 0.8, rowShare: 0.8, stopping: 50))
        entries.append(entry(rank: 90, rounds: 3000, learningRate: 0.03, leaves: 15, minLeaf: shape.rows > 2_000 ? 40 : 10, l2: 1,
                             columns: 0.7, stopping: 80))
        // Trees on a ridge model's margins: where the target follows a few inputs steadily (taxi fares with
        // distance and minutes), trees alone must approximate a line by steps and ridge alone misses the
        // rest. Multiclass would fit a linear model per class first: left out.
        if shape.task != .multiclass {
            var base = entry(rank: 110, rounds: 2000, learningRate: 0.05, leaves: 15, stopping: 50, linearBase: LinearFamily.ridgeBase)
            base.costly = shape.linearFitIsCostly
            entries.append(base)
        }
        if shape.rows < 5_000 {
            entries.append(entry(rank: 130, rounds: 2000, learningRate: 0.03, leaves: 7, minLeaf: 5, stopping: 60))
            // On small data an inner early-stopping split is a handful of rows: set rounds use every row.
            entries.append(entry(rank: 140, rounds: 200, learningRate: 0.05, leaves: 15, minLeaf: 10, columns: 0.8))
        }
        return entries
    }

    /// A leaf-wise entry; `stopping` 0 means the rounds are set, not found by early stopping.
    private func entry(rank: Int, rounds: Int, learningRate: Double, leaves: Int, minLeaf: Int = 20, l2: Double = 0, columns: Double = 1,
                       rowShare: Double = 1, stopping: Int = 0, linearBase: LinearParameters? = nil) -> PortfolioEntry {
        var p = GradientBoostingParameters()
        p.linearBase = linearBase
        p.rounds = rounds
        p.learningRate = learningRate
        p.maxLeaves = leaves
        p.minChildSamples = minLeaf
        p.lambdaL2 = l2
        p.columnSubsample = columns
        p.rowSubsample = rowShare
        p.earlyStoppingRounds = stopping
        return PortfolioEntry(.gradientBoosting(p), summary: Self.describe(p), rank: rank)
    }

    public func values(of learner: Learner) -> [String: Double] {
        guard case .gradientBoosting(let p) = learner else { return [:] }
        var values: [String: Double] = [
            "rounds": Double(p.rounds), "learning_rate": p.learningRate, "min_child_samples": Double(p.minChildSamples),
            "lambda_l2": p.lambdaL2, "column_subsample": p.columnSubsample, "row_subsample": p.rowSubsample,
        ]
        if let depth = p.symmetricDepth { values["symmetric_depth"] = Double(depth) } else { values["max_leaves"] = Double(p.maxLeaves) }
        return values
    }

    public func describe(_ learner: Learner) -> String {
        guard case .gradientBoosting(let p) = learner else { return "" }
        return Self.describe(p)
    }

    public static func describe(_ p: GradientBoostingParameters) -> String {
        var text = "lr \(String(format: "%.3g", p.learningRate)), " + (p.symmetricDepth.map { "symmetric depth \($0)" } ?? "\(p.maxLeaves) leaves")
            + ", min leaf \(p.minChildSamples)"
        if p.lambdaL2 > 0 { text += ", L2 \(p.lambdaL2)" }
        if p.columnSubsample < 1 { text += ", cols \(p.columnSubsample)" }
        if p.rowSubsample < 1 { text += ", rows \(p.rowSubsample)" }
        if p.earlyStoppingRounds == 0 { text += ", \(p.rounds) rounds" }
        if p.linearBase != nil { text += ", on a ridge base" }
        return text
    }

    public func pinning(_ learner: Learner, to settings: [String: Double]) -> Learner {
        guard case .gradientBoosting(var p) = learner else { return learner }
        // Pinned leaves or depth describe leaf-wise trees: symmetric configurations become leaf-wise ones.
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
            case "linear_base": p.linearBase = value >= 1 ? (p.linearBase ?? LinearFamily.ridgeBase) : nil
            default: break
            }
        }
        return .gradientBoosting(p)
    }

    /// Symmetric trees share one split per level and cannot honour per-feature constraints.
    public func constrained(_ learner: Learner, _ constraints: [Int]) -> Learner? {
        guard case .gradientBoosting(var p) = learner else { return nil }
        guard constraints.contains(where: { $0 != 0 }) else { return learner }
        guard p.symmetricDepth == nil else { return nil }
        p.monotoneConstraints = constraints
        return .gradientBoosting(p)
    }

    /// Leaves, learning rate, minimum leaf size, penalties and sampling each moved by a random factor or
    /// choice within the space's domains; symmetric trees move their depth one level either way instead.
    public func variation(of learner: Learner, _ g: inout SeededGenerator) -> Learner? {
        guard case .gradientBoosting(let base) = learner else { return nil }
        var p = base
        func factor() -> Double { [0.5, 0.7, 1.0, 1.4, 2.0][g.next(below: 5)] }
        if let depth = base.symmetricDepth {
            // Symmetric trees: depth one level either way, penalties around CatBoost's default of 3.
            p.symmetricDepth = min(8, max(3, depth + [-1, 0, 1][g.next(below: 3)]))
            p.learningRate = (min(0.3, max(0.01, p.learningRate * factor())) * 1000).rounded() / 1000
            p.lambdaL2 = [1, 3, 5, 10][g.next(below: 4)]
        } else {
            p.maxLeaves = min(255, max(4, Int(Double(p.maxLeaves) * factor())))
            p.learningRate = (min(0.3, max(0.01, p.learningRate * factor())) * 1000).rounded() / 1000
            p.minChildSamples = min(200, max(2, Int(Double(p.minChildSamples) * factor())))
            p.lambdaL2 = [0, 0.1, 1, 5][g.next(below: 4)]
        }
        p.columnSubsample = [0.5, 0.7, 0.85, 1][g.next(below: 4)]
        p.rowSubsample = [0.7, 0.85, 1][g.next(below: 3)]
        if base.earlyStoppingRounds > 0 {
            p.rounds = max(p.rounds, Int(60 / p.learningRate))
            p.earlyStoppingRounds = max(30, Int(3 / p.learningRate))
        } else {
            // Set rounds stay set: as many as keep rounds × learning rate where the base had it.
            p.rounds = min(3000, max(20, Int((Double(base.rounds) * base.learningRate / p.learningRate).rounded())))
        }
        p.seed = g.next()
        return .gradientBoosting(p)
    }

    public func seeded(_ learner: Learner, _ seed: UInt64) -> Learner {
        guard case .gradientBoosting(var p) = learner else { return learner }
        p.seed = seed
        return .gradientBoosting(p)
    }

    public func memoryEstimate(_ learner: Learner, shape: DataShape) -> Int {
        guard case .gradientBoosting(let p) = learner else { return 0 }
        let (rows, features, outputs) = (shape.rows, shape.features, shape.outputs)
        // One histogram pool per tree grown at once (one per core with several classes).
        let histograms = max(p.leafLimit, 2) * features * min(p.maxBins + 1, 256) * 24 * min(Parallel.coreCount, max(outputs, 1))
        let perRow = rows * outputs * 8 * 4
        // On a linear base, the linear fit's design matrix comes first, and its margins stay beside the trees.
        let base = p.linearBase.map { LinearFamily().memoryEstimate(.linear($0), shape: shape) } ?? 0
        return rows * features + histograms + perRow + p.rounds * outputs * p.leafLimit * 48 + base
    }

    public func binCount(_ learner: Learner) -> Int? {
        if case .gradientBoosting(let p) = learner { p.maxBins } else { nil }
    }

    public func stopsEarly(_ learner: Learner) -> Bool {
        if case .gradientBoosting(let p) = learner { p.earlyStoppingRounds > 0 } else { false }
    }

    /// Refitted with the rounds early stopping chose in the folds (a little more for the larger training
    /// set) and no early stopping, since no rows are left to stop on. Set rounds are kept as they are.
    public func refit(_ learner: Learner, bestRounds: [Int]) -> Learner {
        guard case .gradientBoosting(var p) = learner, p.earlyStoppingRounds > 0, !bestRounds.isEmpty else { return learner }
        let mean = Double(bestRounds.reduce(0, +)) / Double(bestRounds.count)
        p.rounds = max(1, Int((mean * 1.1).rounded()))
        p.earlyStoppingRounds = 0
        return .gradientBoosting(p)
    }

    public func benefitsFromSeedBagging(_ learner: Learner) -> Bool {
        if case .gradientBoosting(let p) = learner { p.rowSubsample < 1 || p.columnSubsample < 1 } else { false }
    }

    public func fit(_ learner: Learner, data: TrainingData, context: FitContext) throws -> FittedModel {
        guard case .gradientBoosting(let p) = learner else { throw LearnError.invalidParameter("not a boosting configuration: \(learner.family.name)") }
        if p.linearBase != nil {
            return .ensemble(try ResidualBoosting(parameters: p).fit(data.features, target: data.target, weights: data.weights,
                                                                     validation: context.validation, deadline: context.deadline,
                                                                     binned: data.binned))
        }
        return .gradientBoosting(try GradientBoosting(parameters: p).fit(data.features, target: data.target, weights: data.weights,
                                                                         validation: context.validation, deadline: context.deadline,
                                                                         binned: data.binned))
    }
}
