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

        /// The candidate with per-feature monotonic constraints; nil for a family that cannot honour them.
        func constrained(_ constraints: [Int]) -> Candidate? {
            guard constraints.contains(where: { $0 != 0 }) else { return self }
            var copy = self
            switch learner {
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
    /// configuration, so on big or many-class data they cannot starve the configurations that usually win. From 10,000 rows a high-capacity boosting
    /// configuration (127 leaves) joins early: large tables reward deep interactions.
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
        var quick = GradientBoostingParameters()
        quick.rounds = 300
        quick.learningRate = 0.1
        quick.maxLeaves = 15
        quick.earlyStoppingRounds = 30
        add(Candidate(family: "gbdt", summary: describe(quick), learner: .gradientBoosting(quick)))
        // LightGBM's defaults, rounds set rather than found: a floor no search result should fall below.
        var defaults = GradientBoostingParameters()
        defaults.rounds = 100
        add(Candidate(family: "gbdt", summary: describe(defaults), learner: .gradientBoosting(defaults)))
        if rows >= 10_000 {
            var wide = GradientBoostingParameters()
            wide.rounds = 2000
            wide.learningRate = 0.1
            wide.maxLeaves = 127
            wide.minChildSamples = 20
            wide.columnSubsample = 0.8
            wide.earlyStoppingRounds = 40
            add(Candidate(family: "gbdt", summary: describe(wide), learner: .gradientBoosting(wide)))
        }
        var linear = LinearParameters()
        linear.lambda = 1e-3
        linear.tolerance = 1e-6
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
        var standard = GradientBoostingParameters()
        standard.rounds = 2000
        standard.learningRate = 0.05
        standard.maxLeaves = 31
        standard.earlyStoppingRounds = 50
        standard.rowSubsample = 0.8
        standard.columnSubsample = 0.8
        add(Candidate(family: "gbdt", summary: describe(standard), learner: .gradientBoosting(standard)))
        var extra = ForestParameters.extraTrees
        extra.trees = forest.trees
        extra.minSamplesLeaf = forest.minSamplesLeaf
        extra.maxBins = forest.maxBins
        add(Candidate(family: "extra_trees", summary: "\(extra.trees) trees, min leaf \(extra.minSamplesLeaf)", learner: .randomForest(extra)))
        var careful = GradientBoostingParameters()
        careful.rounds = 3000
        careful.learningRate = 0.03
        careful.maxLeaves = 15
        careful.minChildSamples = rows > 2_000 ? 40 : 10
        careful.lambdaL2 = 1
        careful.columnSubsample = 0.7
        careful.earlyStoppingRounds = 80
        add(Candidate(family: "gbdt", summary: describe(careful), learner: .gradientBoosting(careful)))
        add(Candidate(family: "ebm", summary: "lr 0.02, 4 bags, 10 pairs", learner: .explainableBoosting(ExplainableBoostingParameters())),
            costly: ebmIsCostly)
        var strong = linear
        strong.lambda = 3e-2
        add(Candidate(family: "linear", summary: "λ=3e-2 ridge", learner: .linear(strong)), costly: linearIsCostly)
        if rows < 5_000 {
            var small = GradientBoostingParameters()
            small.rounds = 2000
            small.learningRate = 0.03
            small.maxLeaves = 7
            small.minChildSamples = 5
            small.earlyStoppingRounds = 60
            add(Candidate(family: "gbdt", summary: describe(small), learner: .gradientBoosting(small)))
            // On small data an inner early-stopping split is a handful of rows: set rounds use every row.
            var steady = GradientBoostingParameters()
            steady.rounds = 200
            steady.learningRate = 0.05
            steady.maxLeaves = 15
            steady.minChildSamples = 10
            steady.columnSubsample = 0.8
            add(Candidate(family: "gbdt", summary: describe(steady), learner: .gradientBoosting(steady)))
        }
        return (cheap.filter { families.contains($0.family) }, costly.filter { families.contains($0.family) })
    }

    /// A seeded variation of a boosting configuration: leaves, learning rate, minimum leaf size, penalties
    /// and sampling each moved by a random factor within sensible ranges.
    static func perturb(_ base: GradientBoostingParameters, _ g: inout SeededGenerator) -> Candidate {
        var p = base
        func factor() -> Double { [0.5, 0.7, 1.0, 1.4, 2.0][g.next(below: 5)] }
        p.maxLeaves = min(255, max(4, Int(Double(p.maxLeaves) * factor())))
        p.learningRate = (min(0.3, max(0.01, p.learningRate * factor())) * 1000).rounded() / 1000
        p.minChildSamples = min(200, max(2, Int(Double(p.minChildSamples) * factor())))
        p.lambdaL2 = [0, 0.1, 1, 5][g.next(below: 4)]
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
        var text = "lr \(String(format: "%.3g", p.learningRate)), \(p.maxLeaves) leaves, min leaf \(p.minChildSamples)"
        if p.lambdaL2 > 0 { text += ", L2 \(p.lambdaL2)" }
        if p.columnSubsample < 1 { text += ", cols \(p.columnSubsample)" }
        if p.rowSubsample < 1 { text += ", rows \(p.rowSubsample)" }
        if p.earlyStoppingRounds == 0 { text += ", \(p.rounds) rounds" }
        return text
    }
}
