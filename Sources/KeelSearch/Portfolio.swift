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

    static func initial(rows: Int, task: TaskKind, families: Set<String>) -> [Candidate] {
        var list: [Candidate] = []
        var quick = GradientBoostingParameters()
        quick.rounds = 300
        quick.learningRate = 0.1
        quick.maxLeaves = 15
        quick.earlyStoppingRounds = 30
        list.append(Candidate(family: "gbdt", summary: describe(quick), learner: .gradientBoosting(quick)))
        // Fully grown trees spend most of their time on tiny leaves; a few rows per leaf and 63 bins keep
        // forests affordable inside a budget at little cost in accuracy.
        var linear = LinearParameters()
        linear.lambda = 1e-3
        linear.tolerance = 1e-6
        list.append(Candidate(family: "linear", summary: "λ=1e-3 ridge", learner: .linear(linear)))
        var sparse = linear
        sparse.lambda = 3e-3
        sparse.l1Ratio = 0.5
        list.append(Candidate(family: "linear", summary: "λ=3e-3 elastic net (ρ 0.5)", learner: .linear(sparse)))
        var forest = ForestParameters()
        forest.trees = rows > 50_000 ? 60 : 120
        forest.minSamplesLeaf = rows > 5_000 ? 5 : 3
        forest.maxBins = 63
        list.append(Candidate(family: "random_forest", summary: "\(forest.trees) trees, min leaf \(forest.minSamplesLeaf)", learner: .randomForest(forest)))
        var standard = GradientBoostingParameters()
        standard.rounds = 2000
        standard.learningRate = 0.05
        standard.maxLeaves = 31
        standard.earlyStoppingRounds = 50
        standard.rowSubsample = 0.8
        standard.columnSubsample = 0.8
        list.append(Candidate(family: "gbdt", summary: describe(standard), learner: .gradientBoosting(standard)))
        var extra = ForestParameters.extraTrees
        extra.trees = forest.trees
        extra.minSamplesLeaf = forest.minSamplesLeaf
        extra.maxBins = forest.maxBins
        list.append(Candidate(family: "extra_trees", summary: "\(extra.trees) trees, min leaf \(extra.minSamplesLeaf)", learner: .randomForest(extra)))
        var careful = GradientBoostingParameters()
        careful.rounds = 3000
        careful.learningRate = 0.03
        careful.maxLeaves = 15
        careful.minChildSamples = rows > 2_000 ? 40 : 10
        careful.lambdaL2 = 1
        careful.columnSubsample = 0.7
        careful.earlyStoppingRounds = 80
        list.append(Candidate(family: "gbdt", summary: describe(careful), learner: .gradientBoosting(careful)))
        list.append(Candidate(family: "ebm", summary: "lr 0.02, 4 bags, 10 pairs", learner: .explainableBoosting(ExplainableBoostingParameters())))
        var strong = linear
        strong.lambda = 3e-2
        list.append(Candidate(family: "linear", summary: "λ=3e-2 ridge", learner: .linear(strong)))
        if rows < 5_000 {
            var small = GradientBoostingParameters()
            small.rounds = 2000
            small.learningRate = 0.03
            small.maxLeaves = 7
            small.minChildSamples = 5
            small.earlyStoppingRounds = 60
            list.append(Candidate(family: "gbdt", summary: describe(small), learner: .gradientBoosting(small)))
        }
        return list.filter { families.contains($0.family) }
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
        p.rounds = max(p.rounds, Int(60 / p.learningRate))
        p.earlyStoppingRounds = max(30, Int(3 / p.learningRate))
        p.seed = g.next()
        return Candidate(family: "gbdt", summary: describe(p), learner: .gradientBoosting(p))
    }

    static func describe(_ p: GradientBoostingParameters) -> String {
        var text = "lr \(String(format: "%.3g", p.learningRate)), \(p.maxLeaves) leaves, min leaf \(p.minChildSamples)"
        if p.lambdaL2 > 0 { text += ", L2 \(p.lambdaL2)" }
        if p.columnSubsample < 1 { text += ", cols \(p.columnSubsample)" }
        if p.rowSubsample < 1 { text += ", rows \(p.rowSubsample)" }
        return text
    }
}
