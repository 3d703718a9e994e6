import Foundation
import KeelData
import KeelLearn

/// Known-good starting configurations from every family the search may use, in the order of their ranks,
/// then seeded variations of the best configuration of a family that searches locally (a small local
/// search in the spirit of FLAML's CFO). Which configurations exist is each family's knowledge
/// (`LearnerFamily.portfolio`); this only merges, seeds and orders them.
enum Portfolio {
    struct Candidate {
        var family: String
        var summary: String
        var learner: Learner
        /// The purpose in the search's seed stream the learner's seed was drawn from.
        var seedPurpose: String

        init(family: String, summary: String, learner: Learner, seedPurpose: String) {
            (self.family, self.summary, self.learner, self.seedPurpose) = (family, summary, learner, seedPurpose)
        }

        init(_ learner: Learner, summary: String, seedPurpose: String) {
            self.init(family: learner.family.name, summary: summary, learner: learner, seedPurpose: seedPurpose)
        }

        /// The candidate as trial `id` of a search, pruned against `leader` when given.
        func trial(_ id: Int, pruneAgainst leader: TrialResult? = nil) -> TrialSpec.Trial {
            TrialSpec.Trial(id: id, family: family, summary: summary, learner: learner, seedPurpose: seedPurpose, pruneAgainst: leader)
        }

        /// The candidate with per-feature monotonic constraints; nil for a configuration that cannot honour them.
        func constrained(_ constraints: [Int]) -> Candidate? {
            guard constraints.contains(where: { $0 != 0 }) else { return self }
            guard let bound = learner.family.constrained(learner, constraints) else { return nil }
            var copy = self
            copy.learner = bound
            copy.summary += ", monotone"
            return copy
        }
    }

    /// The starting configurations of `families` for data of `shape`, each seeded from `seeds` by its family
    /// and rank (so a family's entries keep their seeds when another family's change): `first` runs in rank
    /// order before anything else; `later` holds the entries their families call costly on this data, which
    /// run interleaved with the local search's variations.
    static func initial(shape: DataShape, families: [any LearnerFamily], seeds: SeedStream) -> (first: [Candidate], later: [Candidate]) {
        let entries = families.flatMap { family in
            family.portfolio(for: shape).map { entry in
                var seeded = entry
                seeded.learner = family.seeded(entry.learner, seeds.seed("portfolio." + family.name, index: entry.rank))
                return (entry: seeded, purpose: "portfolio.\(family.name)#\(entry.rank)")
            }
        }
        let ordered = entries.enumerated().sorted { ($0.element.entry.rank, $0.offset) < ($1.element.entry.rank, $1.offset) }.map(\.element)
        let candidates = ordered.map { (Candidate($0.entry.learner, summary: $0.entry.summary, seedPurpose: $0.purpose), $0.entry.costly) }
        return (candidates.filter { !$0.1 }.map(\.0), candidates.filter(\.1).map(\.0))
    }

    /// The standard families named in `names`, as the command line's `--learner` selects them.
    static func initial(rows: Int, features: Int, task: TaskKind, outputs: Int, families names: Set<String>,
                        seeds: SeedStream = SeedStream(1)) -> (first: [Candidate], later: [Candidate]) {
        initial(shape: DataShape(rows: rows, features: features, task: task, outputs: outputs),
                families: LearnerFamilies.standard.filter { names.contains($0.name) }, seeds: seeds)
    }

    /// A seeded variation of `base` by its family (nil when the family does not vary).
    static func variation(of base: Learner, _ generator: inout SeededGenerator) -> Candidate? {
        let family = base.family
        return family.variation(of: base, &generator).map { Candidate($0, summary: family.describe($0), seedPurpose: "local-search") }
    }
}
