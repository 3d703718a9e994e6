import KeelData
import KeelLearn

/// Everything the search can ship, listed from the places the search itself reads, so that a suite of
/// invariants (finite predictions, additive explanations, identical predictions through every path) covers
/// a new configuration without being edited: the portfolio at every size it distinguishes, seeded variations
/// of each boosting entry, their monotone-constrained forms, and the seed bags the search averages.
public enum SearchSpace {
    public struct Configuration: Sendable {
        public var family: String
        public var summary: String
        public var learner: Learner
    }

    /// Row counts on each side of every size rule of the portfolio (2,000 / 5,000 / 10,000 / 50,000 rows).
    static let regimes = [500, 3_000, 20_000, 60_000]

    /// Every distinct configuration the search can try for `task` on features of `kinds` (monotone
    /// constraints go on every third numeric feature).
    public static func configurations(task: TaskKind, outputs: Int, kinds: [FeatureKind]) -> [Configuration] {
        let features = kinds.count
        let constraints = kinds.indices.map { kinds[$0] == .numeric && $0 % 3 == 0 ? 1 : 0 }
        var seen: [Learner] = []
        var result: [Configuration] = []
        func add(_ candidate: Portfolio.Candidate) {
            guard !seen.contains(candidate.learner) else { return }
            seen.append(candidate.learner)
            result.append(Configuration(family: candidate.family, summary: candidate.summary, learner: candidate.learner))
        }
        for rows in regimes {
            let shape = DataShape(rows: rows, features: features, task: task, outputs: outputs)
            let (first, later) = Portfolio.initial(shape: shape, families: LearnerFamilies.standard, seeds: SeedStream(1))
            for candidate in first + later {
                add(candidate)
                // Monotone constraints change how learners that take them fit.
                if let constrained = candidate.constrained(constraints), constrained.learner != candidate.learner {
                    add(constrained)
                }
                // The local search's variations of each entry of a family that searches locally.
                var generator = SeededGenerator(seed: UInt64(rows))
                if let varied = Portfolio.variation(of: candidate.learner, &generator) { add(varied) }
            }
        }
        return result
    }

    /// The members a seed bag of `learner` averages (equal weights), as the search ships them: the
    /// configuration itself, then `learner` reseeded from `seeds` for each further bag.
    public static func seedBag(_ learner: Learner, seeds: SeedStream) -> [Learner] {
        (0..<SearchRun.seedBags).map { bag in
            bag == 0 ? learner : learner.family.seeded(learner, seeds.seed("bag", index: bag))
        }
    }
}
