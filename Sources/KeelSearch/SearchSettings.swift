import Foundation
import KeelData
import KeelLearn

/// What a search may do: its budget, what it optimises, and how it validates.
public struct SearchSettings: Sendable {
    /// Wall-clock budget in seconds for everything from the first trial to the refitted model.
    public var timeBudget: Double = 60
    /// Run exactly this many trials, with no time limit (reproducible to the bit for a seed).
    public var trials: Int?
    /// nil: the task's default metric.
    public var metric: Metric?
    public var seed: UInt64 = 1
    /// Share of rows held out before the search and scored once at the end.
    public var holdoutFraction = 0.2
    /// Learner families to consider, by name (`gbdt`, `random_forest`, `extra_trees`, `linear`, `ebm`); nil: all
    /// of `families`.
    public var learners: Set<String>?
    /// The families the search knows: Keel's own, and any a caller registers (a family defined in a test
    /// target is searched and ranked like the others, though its models cannot be saved).
    public var families: [any LearnerFamily] = LearnerFamilies.standard
    /// Numeric feature columns the prediction must rise (+1) or fall (−1) with. Learners that cannot honour
    /// such constraints (forests) are left out.
    public var monotone: [String: Int] = [:]
    /// Weight classes so that each has the same total weight.
    public var balanceClasses = false
    /// Choose a glassbox model (linear or EBM) when it is within this much of the best score.
    public var preferInterpretable: Double?
    /// The shipped model must score one row within this many milliseconds (measured).
    public var maxPredictMilliseconds: Double?
    /// After scoring the holdout, refit the chosen configuration on all rows (search part and holdout); the
    /// holdout score then describes the model before this refit, and the report says so.
    public var refitFull = false
    /// Hyperparameters pinned per learner family by the user; the search varies only the others.
    public var fixed = FixedHyperparameters()
    /// Binary tasks: the cost of a false positive and of a false negative; the decision threshold then
    /// minimises their total out of fold instead of being 0.5.
    public var costs: (falsePositive: Double, falseNegative: Double)?
    /// Set (by Ctrl-C, say) to end the search after the trial under way.
    public var stop: StopRequest?
    /// Try a stacked second layer (a non-negative linear model over the best trials' margins) after blending.
    public var stack = false
    /// Memory the search may use (nil: 70% of the machine's); trials that would exceed it are left out and
    /// folds that would are reduced to one split.
    public var memory: MemoryBudget?
    /// Drop high-cardinality categorical columns that a probe cross-validates better without (`ColumnScreen`).
    public var screenColumns = true
    /// Columns the screen never drops (the user asked for them as features).
    public var keepColumns: Set<String> = []
    /// Replays a recorded run's clock-dependent decisions instead of consulting the clock.
    public var replay: ReplaySchedule?
    /// How many times the caller encodes and writes the model after the search (a registry and a copy count
    /// two): the budget runs until the artefact is on disk, so the search keeps that time back.
    public var writesAfterSearch = 1
    /// Measures the chosen model's importance and attributions for the report (nil: the report has none).
    public var analyst: (any ModelAnalyst)?
    /// Search rules turned off, so a benchmark can weigh each on training rows (`KEEL_SEARCH_RULES_OFF`);
    /// the report says which.
    public var rulesOff: Set<SearchRule> = []

    public init() {}

    public static var learnerFamilies: [String] { LearnerFamilies.names }

    /// Every random choice of the search draws from this stream, by purpose.
    var seeds: SeedStream { SeedStream(seed) }
}

/// A search rule that a benchmark may turn off to measure what it brings (`bench/search_rules.sh`).
public enum SearchRule: String, CaseIterable, Codable, Sendable {
    /// After convergence, the pruned portfolio entries run on every fold (`SearchRun.completePruned`).
    case completePruned = "complete-pruned"
    /// Fewer folds when rows × features × outputs exceed what the budget affords (`ValidationPlan.affordable`).
    case affordableFolds = "affordable-folds"
    /// Repeated folds for up to 20,000 rows when the rarest class has under 300 of them (`ValidationPlan.make`).
    case rareClassRepeats = "rare-class-repeats"

    /// The rules named in a comma-separated list; an unknown name is an error naming the known ones.
    public static func parse(_ list: String) throws -> Set<SearchRule> {
        var rules = Set<SearchRule>()
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let rule = SearchRule(rawValue: name) else {
                throw SearchError.invalidInput("unknown search rule '\(name)'; the rules are: \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            rules.insert(rule)
        }
        return rules
    }
}

/// The decisions a time-limited search took because of the clock. With the same data, settings and seed,
/// these make the search take the same path again without a clock: the same trials, the same trials cut
/// short, the same ensemble choice, hence the same model.
public struct ReplaySchedule: Codable, Sendable, Equatable {
    public var trialCount: Int
    /// Trials the deadline cut short; a replay records them as stopped without running them.
    public var stoppedTrials: [Int]
    /// An ensemble won out of fold but there was no time left to refit it.
    public var ensembleSkipped: Bool
    /// Time limited the ensemble's members: the trials it was chosen among (nil when it did not, or when it
    /// left no ensemble, which `ensembleSkipped` records).
    public var ensembleMembers: [Int]?
    /// The blend a search under a clock shipped, as selection picked its members in order (empty: no
    /// blend); a replay ships this blend instead of selecting again, since selection without the budget can
    /// take another path (nil in records from before it, which replay by `ensembleMembers`).
    public var ensemblePicks: [Int]?
    /// The same for a stacked second layer.
    public var stackSkipped: Bool?
    /// Whether the sampled boosting members were averaged over several seeds (nil, as false, in records from
    /// before seed bagging).
    public var seedBagged: Bool?
    /// The refit of the chosen model was cut short: a replay cannot stop it at the same round.
    public var refitCutShort: Bool
    /// The refit was cut short, so the best trial's complete model from its first fold was shipped instead
    /// (nil, as false, in records from before this fallback): a replay ships that model without refitting.
    public var shippedFoldModel: Bool?
    /// No trial completed and the fallback ridge model stopped at the deadline before converging: a replay,
    /// without the clock, fits it to convergence (nil, as false, when it did not happen).
    public var baselineCutShort: Bool?
    /// With `refitFull`: whether the refit on all rows was done (it is skipped when time runs out).
    public var refittedOnAllRows: Bool
    /// The column screen's verdicts, which a replay applies without probing (nil: no screen ran, as in
    /// records from before it existed).
    public var columnScreen: [ColumnScreen]?
    /// The identifier screen's verdicts (inferred identifiers probed as features; `dropped` true when the
    /// column stayed out), which a replay applies without probing (nil: none ran, as before it existed).
    public var identifierScreen: [ColumnScreen]?
    /// The value screen's verdict, which a replay applies without probing (nil: it did not run, or the
    /// record is from before it existed; either way the run had no values).
    public var valueScreen: ValueScreen?
    /// How many splits the validation plan kept after the memory check (fewer than planned when the memory
    /// budget reduced it to one). A replay builds its folds once, on the screened columns, and takes this
    /// rather than checking again on folds of other columns (nil in records from before it was kept: the
    /// replay then checks as the run did, on one fold of every column).
    public var validationSplits: Int?
    /// The search semantics that made the run (`Search.semanticsVersion`; nil in records from before it was
    /// kept, which are version 1). A replay under other semantics would not make the same model.
    public var searchVersion: Int?

    /// The semantics version of the run this records.
    public var madeBySearchVersion: Int { searchVersion ?? 1 }

    public init(trialCount: Int, stoppedTrials: [Int], ensembleSkipped: Bool, ensembleMembers: [Int]? = nil, stackSkipped: Bool = false,
                seedBagged: Bool = false, refitCutShort: Bool, refittedOnAllRows: Bool) {
        (self.trialCount, self.stoppedTrials, self.ensembleSkipped, self.stackSkipped) = (trialCount, stoppedTrials, ensembleSkipped, stackSkipped)
        (self.ensembleMembers, self.seedBagged) = (ensembleMembers, seedBagged)
        (self.refitCutShort, self.refittedOnAllRows) = (refitCutShort, refittedOnAllRows)
    }
}
