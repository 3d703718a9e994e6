import KeelLearn

/// One evaluated configuration: its learner, cross-validated scores and costs.
public struct TrialResult: Codable, Sendable {
    /// `pruned`: stopped after some folds because it was clearly behind the leader on them (its fold
    /// scores so far are kept).
    public enum Status: String, Codable, Sendable { case completed, failed, stopped, pruned }

    public var id: Int
    public var family: String
    /// Key hyperparameters, as a user reads them.
    public var summary: String
    public var learner: Learner
    public var foldScores: [Double]
    public var mean: Double
    public var std: Double
    /// Mean seconds to fit one fold (pipeline and learner).
    public var fitSeconds: Double
    /// Milliseconds to score 1,000 rows.
    public var predictMillisecondsPer1000: Double
    /// Numbers the first fold's model stores (`FittedModel.storedValues`): what encoding it takes grows with.
    public var storedValues: Int?
    /// Boosting rounds early stopping chose, per fold (used for the refit).
    public var bestRounds: [Int]
    public var status: Status
    public var message: String?
    /// The pruned portfolio trial this one ran again on every fold, after the search converged.
    public var completes: Int?
    /// The purpose in the search's seed stream its learner's seed was drawn from (nil in reports from
    /// before it was kept).
    public var seedPurpose: String?
}
