import Foundation
import KeelData
import KeelLearn

/// One trial as data: which configuration to fit, where its seed came from, on which folds of which rows,
/// prepared by which pipeline and scored by which metric. Encoded, it can be run by another process (later,
/// another machine) with the same fold scores as the search that made it: `run` builds the folds and
/// evaluates the trial through the same evaluator the search uses.
///
/// The search's own trials go through `Trial` too; the shared part (`Context`: the search rows as typed, the
/// target as encoded, the folds) is what every trial of one search has in common, written once.
public struct TrialSpec: Codable, Sendable {
    /// The spec's own layout; a runner refuses other formats by name.
    public static let currentFormat = 1
    public var format = Self.currentFormat
    /// The search semantics that made it (`Search.semanticsVersion`): a runner of other semantics would fit
    /// another model, so it refuses.
    public var searchVersion = Search.semanticsVersion
    public var trial: Trial
    public var context: Context

    public init(trial: Trial, context: Context) {
        (self.trial, self.context) = (trial, context)
    }

    /// What to fit.
    public struct Trial: Codable, Sendable {
        public var id: Int
        public var family: String
        /// Key hyperparameters, as a user reads them.
        public var summary: String
        /// The configuration, parameters and seed included.
        public var learner: Learner
        /// The purpose in the search's seed stream the learner's seed was drawn from (`portfolio.gbdt#2`,
        /// `local-search`): which random choice it is, so a seed is never reused for another.
        public var seedPurpose: String
        /// The leader this trial may be pruned against after each batch of folds (nil: every fold runs).
        public var pruneAgainst: TrialResult?

        public init(id: Int, family: String, summary: String, learner: Learner, seedPurpose: String, pruneAgainst: TrialResult? = nil) {
            (self.id, self.family, self.summary, self.learner) = (id, family, summary, learner)
            (self.seedPurpose, self.pruneAgainst) = (seedPurpose, pruneAgainst)
        }
    }

    /// What every trial of a search shares: the search rows as the search typed them, the target as it
    /// encoded it, the folds, the pipeline's options and the metric.
    public struct Context: Codable, Sendable {
        /// A `FrameSnapshot` of the search rows, and its fingerprint (checked when it is read).
        public var snapshot: String
        public var fingerprint: String
        /// The schema after the screens (columns left out, identifiers kept).
        public var schema: Schema
        public var task: LearningTask
        public var metric: Metric
        /// The encoded target of the search rows (class indices, or values).
        public var target: [Double]
        public var weights: [Double]?
        /// Index the search rows.
        public var folds: [Fold]
        /// The leading folds whose validation rows cover each row at most once.
        public var coverFolds: Int
        public var pipeline: PipelineOptions
    }

    /// Why a spec cannot be run.
    public enum RunError: Error, CustomStringConvertible, Equatable {
        case otherFormat(Int)
        case otherSearchVersion(Int)
        case dataChanged(file: String, expected: String, found: String)
        case inconsistent(String)

        public var description: String {
            switch self {
            case .otherFormat(let format):
                "the trial spec has format \(format); this Keel runs format \(TrialSpec.currentFormat)"
            case .otherSearchVersion(let version):
                "the trial spec was made by search version \(version); this Keel searches with version \(Search.semanticsVersion)"
            case .dataChanged(let file, let expected, let found):
                "\(file): the search rows' fingerprint is \(found), the spec expects \(expected)"
            case .inconsistent(let what):
                "the trial spec is inconsistent: \(what)"
            }
        }
    }

    /// A spec read from `bytes`: its format and search version are checked before the rest is decoded, so a
    /// spec of another layout is refused by name rather than as a decoding error. A relative snapshot path is
    /// taken relative to `folder` (where the spec was).
    public static func decode(_ bytes: Data, folder: String? = nil) throws -> TrialSpec {
        struct Header: Decodable { var format: Int; var searchVersion: Int? }
        let header = try JSONDecoder().decode(Header.self, from: bytes)
        guard header.format == currentFormat else { throw RunError.otherFormat(header.format) }
        if let version = header.searchVersion, version != Search.semanticsVersion { throw RunError.otherSearchVersion(version) }
        var spec = try JSONDecoder().decode(TrialSpec.self, from: bytes)
        if let folder, !spec.context.snapshot.hasPrefix("/") { spec.context.snapshot = folder + "/" + spec.context.snapshot }
        return spec
    }

    /// Runs the trial on its folds, as the search would have (`deadline` nil: to completion).
    public func run(deadline: ContinuousClock.Instant? = nil) throws -> TrialResult {
        guard format == Self.currentFormat else { throw RunError.otherFormat(format) }
        guard searchVersion == Search.semanticsVersion else { throw RunError.otherSearchVersion(searchVersion) }
        let evaluator = try context.evaluator()
        return evaluator.evaluate(trial, deadline: deadline).result
    }
}

extension TrialSpec.Context {
    init(searchFrame: Frame, snapshot: String, schema: Schema, task: LearningTask, metric: Metric, target: TargetEncoding,
         weights: [Double]?, plan: ValidationPlan, pipeline: PipelineOptions) throws {
        let fingerprint = try FrameSnapshot.write(searchFrame, to: snapshot)
        self.init(snapshot: snapshot, fingerprint: fingerprint, schema: schema, task: task, metric: metric, target: target.values,
                  weights: weights, folds: plan.folds, coverFolds: plan.coverFolds, pipeline: pipeline)
    }

    /// The folds built from the snapshot, in an evaluator as the search builds them.
    func evaluator() throws -> TrialEvaluator {
        let frame = try FrameSnapshot.read(from: snapshot)
        guard frame.fingerprint == fingerprint else { throw TrialSpec.RunError.dataChanged(file: snapshot, expected: fingerprint, found: frame.fingerprint) }
        guard target.count == frame.rowCount, weights.map({ $0.count == frame.rowCount }) ?? true else {
            throw TrialSpec.RunError.inconsistent("\(target.count) target values and \(weights?.count ?? 0) weights for \(frame.rowCount) rows")
        }
        if let classes = task.classes?.count, task.kind != .regression,
           let bad = target.first(where: { !($0 >= 0 && $0 < Double(classes) && $0.rounded() == $0) }) {
            throw TrialSpec.RunError.inconsistent("target value \(bad) is not a class index of the \(classes) classes")
        }
        if task.kind == .regression, target.contains(where: { !$0.isFinite }) {
            throw TrialSpec.RunError.inconsistent("a regression target value is not finite")
        }
        guard !folds.isEmpty, folds.allSatisfy({ ($0.train + $0.validation).allSatisfy { (0..<frame.rowCount).contains($0) } }) else {
            throw TrialSpec.RunError.inconsistent("a fold names a row outside the \(frame.rowCount) search rows")
        }
        let encoded = TargetEncoding(task: task, values: target)
        let built = try folds.map { try FoldData(frame, schema: schema, target: encoded, weights: weights, fold: $0, options: pipeline) }
        var evaluator = TrialEvaluator(folds: built, metric: metric, classCount: encoded.classCount, task: task.kind,
                                       searchRows: frame.rowCount, coverFolds: coverFolds)
        evaluator.parallelFolds = Parallel.coreCount > 1 && built.count > 1 ? 2 : 1
        return evaluator
    }
}

extension SearchRun {
    /// What this search's trials share, with the search rows written as a snapshot to `snapshot`.
    func trialContext(snapshot: String) throws -> TrialSpec.Context {
        try TrialSpec.Context(searchFrame: data.searchFrame, snapshot: snapshot, schema: schema, task: data.task, metric: data.metric,
                              target: data.searchY, weights: data.searchWeights, plan: data.plan, pipeline: pipelineOptions)
    }

    /// Trial `id` of this search as a spec another process can run (nil: no such trial), pruned against
    /// nothing: the spec runs every fold.
    func spec(ofTrial id: Int, context: TrialSpec.Context) -> TrialSpec? {
        guard let trial = trials.first(where: { $0.id == id }) else { return nil }
        let run = TrialSpec.Trial(id: trial.id, family: trial.family, summary: trial.summary, learner: trial.learner,
                                  seedPurpose: trial.seedPurpose ?? "")
        return TrialSpec(trial: run, context: context)
    }
}
