import Foundation
import KeelData
import KeelLearn

/// Known-good starting configurations, cheapest first, then seeded variations of the best boosting
/// configuration so far (a small local search in the spirit of FLAML's CFO).
enum Portfolio {
    struct Candidate {
        var family: String
        var summary: String
        var learner: Learner

        /// The candidate with per-feature monotonic constraints; nil for a learner that cannot honour them
        /// (forests, symmetric trees).
        func constrained(_ constraints: [Int]) -> Candidate? {
            guard constraints.contains(where: { $0 != 0 }) else { return self }
            var copy = self
            switch learner {
            case .gradientBoosting(let p) where p.symmetricDepth != nil: return nil
            case .gradientBoosting(var p): p.monotoneConstraints = constraints; copy.learner = .gradientBoosting(p)
            case .linear(var p): p.signConstraints = constraints; copy.learner = .linear(p)
            case .explainableBoosting(var p): p.monotoneConstraints = constraints; copy.learner = .explainableBoosting(p)
            case .randomForest: return nil
            }
            copy.summary += ", monotone"
            return copy
        }
    }

    /// The starting configurations: `first` runs in order before anything else; `later` holds families whose
    /// cost grows with rows × features × classes (linear models by coordinate descent, EBMs with their pair
    /// terms) when that product is large, and runs interleaved with variations of the best boosting
    /// configuration, so on big or many-class data they cannot starve the configurations that usually win.
    /// From 10,000 rows a high-capacity boosting configuration (127 leaves) joins early: large tables reward
    /// deep interactions.
    static func initial(rows: Int, features: Int, task: TaskKind, outputs: Int, families: Set<String>)
        -> (first: [Candidate], later: [Candidate]) {
        var cheap: [Candidate] = []
        var costly: [Candidate] = []
        let work = rows * max(features, 1) * max(outputs, 1)
        let linearIsCostly = rows > 50_000 || work > 2_000_000
        let ebmIsCostly = task == .multiclass || work > 2_000_000
        func add(_ candidate: Candidate, costly isCostly: Bool = false) {
            if isCostly { costly.append(candidate) } else { cheap.append(candidate) }
        }
        add(boosting(rounds: 300, learningRate: 0.1, leaves: 15, stopping: 30))
        // LightGBM's defaults, rounds set rather than found: a floor no search result should fall below.
        add(boosting(rounds: 100, learningRate: 0.1, leaves: 31))
        if rows >= 10_000 {
            add(boosting(rounds: 2000, learningRate: 0.1, leaves: 127, columns: 0.8, stopping: 40))
        }
        // CatBoost's kind of tree with its defaults (depth 6, L2 3): balanced trees regularise differently
        // from leaf-wise ones and win on some tables. Not for many classes: every class's tree has up to
        // 2^depth leaves each round, which costs the time a blend or the refit on all rows needs.
        if task != .multiclass { add(symmetric(depth: 6, learningRate: 0.05)) }
        let linear = ridgeBase
        add(Candidate(family: "linear", summary: "λ=1e-3 ridge", learner: .linear(linear)), costly: linearIsCostly)
        var sparse = linear
        sparse.lambda = 3e-3
        sparse.l1Ratio = 0.5
        add(Candidate(family: "linear", summary: "λ=3e-3 elastic net (ρ 0.5)", learner: .linear(sparse)), costly: linearIsCostly)
        // Fully grown trees spend most of their time on tiny leaves; a few rows per leaf and 63 bins keep
        // forests affordable inside a budget at little cost in accuracy.
        var forest = ForestParameters()
        forest.trees = rows > 50_000 ? 60 : 120
        forest.minSamplesLeaf = rows > 5_000 ? 5 : 3
        forest.maxBins = 63
        add(Candidate(family: "random_forest", summary: "\(forest.trees) trees, min leaf \(forest.minSamplesLeaf)", learner: .randomForest(forest)))
        add(boosting(rounds: 2000, learningRate: 0.05, leaves: 31, columns: 0.8, rowShare: 0.8, stopping: 50))
        // Under 2,000 rows extra trees are cheap even fully grown, and leaves of one row with more trees give
        // the smoother probabilities small data needs (random forests gained nothing from the same change).
        let small = rows < 2_000
        var extra = ForestParameters.extraTrees
        extra.trees = small ? 300 : forest.trees
        extra.minSamplesLeaf = small ? 1 : forest.minSamplesLeaf
        extra.maxBins = small ? 255 : forest.maxBins
        add(Candidate(family: "extra_trees", summary: "\(extra.trees) trees, min leaf \(extra.minSamplesLeaf)", learner: .randomForest(extra)))
        add(boosting(rounds: 3000, learningRate: 0.03, leaves: 15, minLeaf: rows > 2_000 ? 40 : 10, l2: 1, columns: 0.7, stopping: 80))
        add(Candidate(family: "ebm", summary: "lr 0.02, 4 bags, 10 pairs", learner: .explainableBoosting(ExplainableBoostingParameters())),
            costly: ebmIsCostly)
        // Trees on a ridge model's margins: where the target follows a few inputs steadily (taxi fares with
        // distance and minutes), trees alone must approximate a line by steps and ridge alone misses the
        // rest. Multiclass would fit a linear model per class first: left out.
        if task != .multiclass {
            add(boosting(rounds: 2000, learningRate: 0.05, leaves: 15, stopping: 50, linearBase: ridgeBase), costly: linearIsCostly)
        }
        var strong = linear
        strong.lambda = 3e-2
        add(Candidate(family: "linear", summary: "λ=3e-2 ridge", learner: .linear(strong)), costly: linearIsCostly)
        if rows < 5_000 {
            add(boosting(rounds: 2000, learningRate: 0.03, leaves: 7, minLeaf: 5, stopping: 60))
            // On small data an inner early-stopping split is a handful of rows: set rounds use every row.
            add(boosting(rounds: 200, learningRate: 0.05, leaves: 15, minLeaf: 10, columns: 0.8))
        }
        return (cheap.filter { families.contains($0.family) }, costly.filter { families.contains($0.family) })
    }

    /// The portfolio's first ridge, which boosting on a linear base starts from too. Coefficient steps below
    /// 1e-4 (scaled by each column's curvature) no longer move a cross-validated score in its fourth decimal;
    /// on soybean's 19 classes the ridge fit took 2.2 s per fold at 1e-6, 0.8 s at 1e-4.
    static var ridgeBase: LinearParameters {
        var p = LinearParameters()
        p.lambda = 1e-3
        p.tolerance = 1e-4
        return p
    }

    /// A boosting candidate; `stopping` 0 means the rounds are set, not found by early stopping.
    private static func boosting(rounds: Int, learningRate: Double, leaves: Int, minLeaf: Int = 20, l2: Double = 0, columns: Double = 1,
                                 rowShare: Double = 1, stopping: Int = 0, linearBase: LinearParameters? = nil) -> Candidate {
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
        return Candidate(family: "gbdt", summary: describe(p), learner: .gradientBoosting(p))
    }

    /// A symmetric-tree boosting candidate, early stopped. Every node of a level splits, so no minimum leaf
    /// size applies beyond one row.
    private static func symmetric(depth: Int, learningRate: Double, l2: Double = 3) -> Candidate {
        var p = GradientBoostingParameters()
        p.symmetricDepth = depth
        p.rounds = 3000
        p.learningRate = learningRate
        p.minChildSamples = 1
        p.lambdaL2 = l2
        p.earlyStoppingRounds = 60
        return Candidate(family: "gbdt", summary: describe(p), learner: .gradientBoosting(p))
    }

    /// A seeded variation of a boosting configuration: leaves, learning rate, minimum leaf size, penalties
    /// and sampling each moved by a random factor within sensible ranges.
    static func perturb(_ base: GradientBoostingParameters, _ g: inout SeededGenerator) -> Candidate {
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
        return Candidate(family: "gbdt", summary: describe(p), learner: .gradientBoosting(p))
    }

    static func describe(_ p: GradientBoostingParameters) -> String {
        var text = "lr \(String(format: "%.3g", p.learningRate)), " + (p.symmetricDepth.map { "symmetric depth \($0)" } ?? "\(p.maxLeaves) leaves")
            + ", min leaf \(p.minChildSamples)"
        if p.lambdaL2 > 0 { text += ", L2 \(p.lambdaL2)" }
        if p.columnSubsample < 1 { text += ", cols \(p.columnSubsample)" }
        if p.rowSubsample < 1 { text += ", rows \(p.rowSubsample)" }
        if p.earlyStoppingRounds == 0 { text += ", \(p.rounds) rounds" }
        if p.linearBase != nil { text += ", on a ridge base" }
        return text
    }
}
