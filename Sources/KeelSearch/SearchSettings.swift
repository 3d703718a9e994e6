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
    /// Learner families to consider (`gbdt`, `random_forest`, `extra_trees`, `linear`, `ebm`); nil: all.
    public var learners: Set<String>?
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

    public init() {}

    public static let learnerFamilies = ["linear", "gbdt", "random_forest", "extra_trees", "ebm"]
}
