import Foundation
import KeelData
import KeelLearn

/// What a search produced.
public struct SearchOutcome: Sendable {
    public var model: TrainedModel
    public var report: SearchReport
    /// The held-out rows, typed as the model read them, target included.
    public var holdout: Frame
}

/// Keel's main job: given a table and its schema, find the best model the budget allows and say truthfully
/// how good it is.
///
/// A holdout is cut first and never shown to any trial. Each trial refits the preprocessing pipeline inside
/// every fold (no leakage) and boosting stops early on an inner split of the fold's training rows, never on
/// the fold being scored. The winner is refitted on the whole search part and scored once on the holdout;
/// that refitted model is the one shipped. With a time budget, trials stop before the search deadline,
/// which leaves room for the refit; with `settings.trials`, exactly that many run, in a fixed order.
public enum Search {
    /// What makes the same data, settings and seed give the same model: bumped whenever a change makes them
    /// give another (where seeds go, how a learner draws or computes). Recorded in every run's replay record,
    /// so a replay under other semantics is refused by name rather than reported as "different".
    /// 1: hand-offset seeds, portfolio learners on seed 0. 2: one seed stream by purpose (`SeedStream`),
    /// reaching every learner; bins built once per fold and bin count; the EBM's gradients in `Float`.
    public static let semanticsVersion = 2

    public static func run(frame: Frame, schema: Schema, settings: SearchSettings,
                           progress: (SearchEvent) -> Void = { _ in }) throws -> (TrainedModel, SearchReport) {
        let outcome = try outcome(frame: frame, schema: schema, settings: settings, progress: progress)
        return (outcome.model, outcome.report)
    }

    /// The search's model and report, plus the holdout rows, which a registry keeps so that later versions
    /// can be compared on data this model never saw.
    public static func outcome(frame: Frame, schema: Schema, settings: SearchSettings,
                               progress: (SearchEvent) -> Void = { _ in }) throws -> SearchOutcome {
        var search = try SearchRun(frame: frame, schema: schema, settings: settings, progress: progress)
        try search.screenColumns(progress: progress)
        try search.screenValues(progress: progress)
        // Features as the model is trained on them (profiled before the trials, so the budget's end is not
        // spent on it); predictions on rows it never saw, as production's will be.
        var profile = ReferenceProfile.make(frame: search.data.searchFrame, features: search.schema.featureNames, seed: settings.seeds.seed("profile.features"))
        search.runTrials(progress: progress)
        let choice = try search.choose(progress: progress)
        var (model, report) = try search.finish(choice, progress: progress)
        let holdout = search.data.typed.selecting(rows: search.data.plan.holdout.validation)
        if holdout.rowCount > 0 {
            let predictor = model.predictor
            let outputs = try search.holdoutOutputs ?? predictor.outputs(holdout)
            let scores = predictor.predictions(outputs).map(predictor.monitoredScore)
            profile.predictions = ReferenceColumn(name: "prediction", values: scores, seed: settings.seeds.seed("profile.predictions"))
            // How unusual held-out rows look next to the training rows the profile describes: humility's
            // `outlying` rule fires on live rows more unusual than nearly all of them.
            let outliers = TrainingDensity(profile: profile, schema: predictor.schema).outlierScores(holdout)
            profile.outlierScores = ReferenceColumn(name: "outlier_score", values: outliers, seed: settings.seeds.seed("profile.outliers"))
        }
        model.profile = profile
        return SearchOutcome(model: model, report: report, holdout: holdout)
    }

    // MARK: Steps

    /// The shipped configuration fitted again on every row, with a pipeline fitted on every row.
    static func refitAll(_ shipped: [(learner: Learner, weight: Double)], intercepts: [Double]? = nil, frame: Frame, schema: Schema,
                         target: TargetEncoding, weights: [Double]?, task: TaskKind, outputs: Int, options: PipelineOptions,
                         deadline: ContinuousClock.Instant?) throws -> (Pipeline, FittedModel) {
        let (pipeline, x) = try Pipeline.fit(frame, schema: schema, target: target, options: options)
        let models = try shipped.map { try $0.learner.fit(x, target: target, weights: weights, deadline: deadline) }
        if models.count == 1 && intercepts == nil { return (pipeline, models[0]) }
        return (pipeline, .ensemble(try EnsembleModel(task: task, outputs: outputs, members: models, weights: shipped.map(\.weight),
                                                      intercepts: intercepts)))
    }

    /// Ensemble selection over the out-of-fold margins of the ten best completed trials and of the best
    /// trial of every other family: the local search fills the top ten with near-copies of one boosting
    /// configuration, and a blend gains most from a model that errs differently.
    /// `cost` and `budget` limit the members to refits that fit the time left; `allowed`, when given, limits
    /// them to those trials (a replay's record of what the budget allowed); `picks`, when given, is the blend
    /// a run under a clock shipped, scored without selecting again.
    static func selectEnsemble(_ completed: [TrialResult], outOfFold: [Int: [Double]], truth: TargetEncoding, metric: Metric,
                               task: TaskKind, cost: [Int: Double] = [:], budget: Double = .infinity,
                               allowed: Set<Int>? = nil, picks: [Int]? = nil) -> EnsembleSelection.Choice? {
        let ranked = completed.sorted { metric.higherIsBetter ? $0.mean > $1.mean : $0.mean < $1.mean }
        var top = Array(ranked.prefix(10))
        for trial in ranked where !top.contains(where: { $0.family == trial.family }) { top.append(trial) }
        if let allowed { top = top.filter { allowed.contains($0.id) } }
        let candidates = top.compactMap { trial in outOfFold[trial.id].map { (id: trial.id, margins: $0) } }
        let outputs = task == .multiclass ? truth.classCount : 1
        let selected = if let picks {
            EnsembleSelection.replayed(picks, candidates: candidates, truth: truth.values, metric: metric, task: task,
                                       outputs: outputs, classCount: truth.classCount)
        } else {
            EnsembleSelection.select(candidates, truth: truth.values, metric: metric, task: task,
                                     outputs: outputs, classCount: truth.classCount, cost: cost, budget: budget)
        }
        guard let choice = selected else { return nil }
        let improves = metric.higherIsBetter ? choice.score > choice.bestSingleScore : choice.score < choice.bestSingleScore
        return improves ? choice : nil
    }

    /// A step's result and the seconds it took.
    static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let started = ContinuousClock.now
        let result = try body()
        return (result, (ContinuousClock.now - started).seconds)
    }

    /// Median milliseconds to score one row through the pipeline and model, over 50 rows.
    static func singleRowMilliseconds(_ model: FittedModel, pipeline: Pipeline, frame: Frame) throws -> Double {
        var times: [Double] = []
        for row in 0..<min(50, frame.rowCount) {
            let one = frame.selecting(rows: [row])
            let start = ContinuousClock.now
            _ = try model.predict(try pipeline.transform(one))
            times.append((ContinuousClock.now - start).seconds * 1000)
        }
        return times.sorted()[times.count / 2]
    }

    /// Per pipeline feature: the constraint of the input column it passes through (date parts, encodings
    /// and text features of a column are not constrained).
    static func monotoneConstraints(_ monotone: [String: Int], schema: Schema, featureNames: [String]) throws -> [Int] {
        for (column, direction) in monotone {
            guard let described = schema[column] else { throw SearchError.invalidInput("--monotone names column '\(column)', which is not in the data") }
            guard described.role == .feature, described.kind == .numeric || described.kind == .boolean else {
                throw SearchError.invalidInput("--monotone needs a numeric feature column; '\(column)' is \(described.kind.rawValue) with role \(described.role.rawValue)")
            }
            guard direction == 1 || direction == -1 else { throw SearchError.invalidInput("--monotone takes +1 or -1 for '\(column)', not \(direction)") }
        }
        return featureNames.map { monotone[$0] ?? 0 }
    }

    /// How the run's pipelines are fitted. Their seed is the run's "pipeline" stream, which the fold data's
    /// own choices (the early-stopping split) draw from by purpose too.
    static func options(_ seed: UInt64) -> PipelineOptions {
        var options = PipelineOptions()
        options.seed = SeedStream(seed).seed("pipeline")
        return options
    }


    static func dropMissingTargets(_ frame: Frame, target: String, warnings: inout [String]) throws -> (Frame, Int) {
        let column = frame[target]!
        let keep = (0..<frame.rowCount).filter { !column.isMissing(at: $0) }
        let dropped = frame.rowCount - keep.count
        guard dropped > 0 else { return (frame, 0) }
        guard keep.count >= 20, dropped * 5 <= frame.rowCount else {
            throw SearchError.invalidInput("target '\(target)' is missing in \(dropped) of \(frame.rowCount) rows; too many to drop")
        }
        warnings.append("dropped \(dropped) rows whose target '\(target)' is missing")
        return (frame.selecting(rows: keep), dropped)
    }

    static func weightColumn(_ frame: Frame, schema: Schema) throws -> [Double]? {
        guard let name = schema.columns(withRole: .weight).first?.name, case .numeric(let values) = frame[name]?.values else { return nil }
        if let row = values.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
            throw SearchError.invalidInput("weight column '\(name)' has \(values[row]) at row \(row + 1); weights must be finite and not negative")
        }
        return values
    }

    /// The best completed trial of a family that searches locally, among `families`: what the next
    /// variation moves from.
    static func bestToVary(_ trials: [TrialResult], families: [any LearnerFamily], metric: Metric) -> Learner? {
        let varying = Set(families.filter(\.searchesLocally).map(\.name))
        let eligible = trials.filter { $0.status == .completed && varying.contains($0.family) }
        return eligible.min(by: { metric.higherIsBetter ? $0.mean > $1.mean : $0.mean < $1.mean })?.learner
    }

    /// The configuration to refit on the search rows: its family's, given the rounds early stopping chose.
    static func refitLearner(_ trial: TrialResult) -> Learner {
        trial.learner.family.refit(trial.learner, bestRounds: trial.bestRounds)
    }

    /// The JSON encoder an artefact's model goes through, for measuring what writing one costs.
    static func modelEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static func format(_ value: Double) -> String { String(format: "%.4f", value) }
}

extension Metric {
    /// The score as an error, lower is better: the loss itself, or 1 − score for the scores bounded by 1
    /// (AUC, accuracy, F1, R²), so that relative margins mean the same for every metric.
    func error(_ score: Double) -> Double { higherIsBetter ? 1 - score : score }
}

