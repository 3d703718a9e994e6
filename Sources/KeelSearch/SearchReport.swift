import KeelData
import KeelLearn

/// The truthful account of a search: every trial, the chosen one, and how the shipped model scored on rows
/// the search never saw.
public struct SearchReport: Codable, Sendable {
    public var task: TaskKind
    public var metric: Metric
    public var validation: String
    public var searchRows: Int
    public var holdoutRows: Int
    public var droppedRows: Int
    /// In the order they ran.
    public var trials: [TrialResult]
    public var bestTrial: Int
    public var crossValidatedScore: Double
    public var crossValidatedStd: Double
    public var holdoutScore: Double
    /// How much worse the holdout is than cross-validation (positive: worse), in the metric's units.
    public var gap: Double
    /// The shipped ensemble, when one beat the best single model out of fold.
    public var ensemble: EnsembleSummary?
    /// Permutation importance of each input column on the holdout, most important first.
    public var importance: [FeatureImportance]
    /// Mean |Shapley value| of each input column in the shipped model's margin, on up to 200 holdout rows.
    public var attributionImportance: [ColumnAttribution] = []
    /// Classifiers: the calibration chosen on out-of-fold margins; binary tasks also the decision threshold.
    public var calibration: CalibrationChoice?
    /// True when the shipped model was refitted on all rows after the holdout was scored (`--refit-full`).
    public var refittedOnAllRows: Bool
    public var warnings: [String]
    public var secondsUsed: Double
    public var budgetSeconds: Double?
    public var seed: UInt64
    /// The memory budget and the estimated use of the folds and the largest trial run.
    public var memory: MemoryUse
    /// What `keel runs reproduce` needs to take the same path again without the clock.
    public var replay: ReplaySchedule
    /// When the shipped boosting members that sample rows or columns were each averaged over this many seeds.
    public var seedBags: Int?
    /// Why the shipped model is not of the learner families asked for (`--learner`), or nil.
    public var fallback: String?
    /// Columns of the data the model does not use, with why and the flag that keeps each (nil in reports
    /// from before it was recorded). The column screen's verdicts are in `replay.columnScreen`.
    public var leftOut: [LeftOutColumn]?
    /// The trivial baseline's holdout score beside the model's (nil in reports from before it was recorded).
    public var baseline: BaselineComparison?

    public struct BaselineComparison: Codable, Sendable {
        /// What the baseline predicts, in words: "the class shares of the training rows", "the training mean".
        public var description: String
        public var holdoutScore: Double
        /// True when the model does not beat the baseline by more than the folds' spread.
        public var noBetter: Bool
    }

    public struct EnsembleSummary: Codable, Sendable {
        /// Trial ids and their weights.
        public var members: [Int]
        public var weights: [Double]
        /// Pooled out-of-fold score of the blend (selected on these rows, so slightly optimistic; the holdout is not).
        public var outOfFoldScore: Double
        public var bestSingleOutOfFoldScore: Double
        /// A stacked second layer's intercept (nil for a greedy blend). Its out-of-fold score is itself
        /// cross-validated: the meta-model never scored rows it was fitted on.
        public var intercepts: [Double]?
    }

    /// The trials not ranked, counted by why: "12 pruned behind the leader, 1 stopped at the deadline", and
    /// how many pruned ones ran again in full; nil when every trial completed.
    public var unrankedSummary: String? {
        let counts: [(TrialResult.Status, String)] = [(.pruned, "pruned behind the leader after some folds"),
                                                      (.stopped, "stopped at the deadline"), (.failed, "failed or left out")]
        var parts = counts.compactMap { status, words in
            let n = trials.filter { $0.status == status }.count
            return n > 0 ? "\(n) \(words)" : nil
        }
        // Only pruned trials run again, so a rerun means the first part is the pruned count.
        let rerun = trials.filter { $0.completes != nil }.count
        if rerun > 0 {
            parts[0] += ", \(rerun) of which ran again on every fold after the search converged, for ensemble selection"
        }
        return parts.isEmpty ? nil : "not ranked: " + parts.joined(separator: ", ")
    }

    /// The column screen's verdicts on one line.
    public var columnScreenSummary: String? {
        guard let screen = replay.columnScreen, !screen.isEmpty else { return nil }
        return screen.map { $0.summary(metric) }.joined(separator: "; ")
    }

    /// The value screen's verdict on one line.
    public var valueScreenSummary: String? { replay.valueScreen.map { $0.summary(metric) } }

    /// Completed trials, best first.
    public var leaderboard: [TrialResult] {
        trials.filter { $0.status == .completed }.sorted { a, b in
            a.mean != b.mean ? (metric.higherIsBetter ? a.mean > b.mean : a.mean < b.mean) : a.id < b.id
        }
    }
}

/// Memory the search budgeted and expected to use, in bytes.
public struct MemoryUse: Codable, Sendable, Equatable {
    public var budget: Int
    /// Feature matrices of every validation fold (they live for the whole search).
    public var folds: Int
    /// The largest estimate of a trial that ran.
    public var largestTrial: Int

    public var estimatedPeak: Int { folds + largestTrial }
}

/// A column the model does not use, said on the terminal and in the report.
public struct LeftOutColumn: Codable, Sendable, Equatable {
    public var column: String
    public var reason: String
    /// The flag that would make it a feature.
    public var keep: String

    /// Every column of `schema` that is neither a feature nor the target, nor given a role by the user
    /// (time, group, weight, protected): identifiers, constants and columns ignored by a flag or schema file.
    /// Columns the column screen dropped (`screened`) have their own line, with the probe's scores.
    /// `probed` has the identifier screen's summary per column it probed.
    public static func list(schema: Schema, frame: Frame, screened: Set<String> = [], probed: [(String, String)] = []) -> [LeftOutColumn] {
        let probes = Dictionary(probed, uniquingKeysWith: { a, _ in a })
        return schema.columns.filter { !screened.contains($0.name) }.compactMap { column in
            let keep = "--feature \(column.name)"
            if schema.privacy?[column.name] == .drop {
                return LeftOutColumn(column: column.name, reason: "dropped by the privacy policy (a direct identifier, or --privacy \(column.name)=drop)",
                                     keep: "--privacy \(column.name)=pseudonymise or --allow-pii \(column.name)")
            }
            switch column.role {
            case .id where column.flags.contains(.idLike):
                let evidence = frame[column.name].flatMap { SchemaInference.identifierEvidence($0, ColumnStatistics($0)) } ?? "unique values"
                let probe = probes[column.name].map { "; a probe found no signal in it (\($0))" } ?? ""
                return LeftOutColumn(column: column.name, reason: "identifier: \(evidence)\(probe)", keep: keep)
            case .id:
                return LeftOutColumn(column: column.name, reason: "identifier (set by --id or the schema file)", keep: keep)
            case .ignored where column.flags.contains(.constant):
                return LeftOutColumn(column: column.name, reason: "constant (one value)", keep: keep)
            case .ignored:
                return LeftOutColumn(column: column.name, reason: "ignored (set by --ignore, the config or the schema file)", keep: keep)
            case .feature, .target, .time, .group, .weight, .protected, .id, .ignored:
                return nil
            }
        }
    }

    public var text: String { "'\(column)' (\(reason); \(keep) keeps it)" }
}
