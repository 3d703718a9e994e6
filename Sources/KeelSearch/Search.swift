import Foundation
import KeelData
import KeelLearn

/// Keel's main job: given a table and its schema, find the best model the budget allows and say truthfully
/// how good it is.
///
/// A holdout is cut first and never shown to any trial. Each trial refits the preprocessing pipeline inside
/// every fold (no leakage) and boosting stops early on an inner split of the fold's training rows, never on
/// the fold being scored. The winner is refitted on the whole search part and scored once on the holdout;
/// that refitted model is the one shipped. With a time budget, trials stop before the search deadline,
/// which leaves room for the refit; with `settings.trials`, exactly that many run, in a fixed order.
public enum Search {
    public static func run(frame: Frame, schema: Schema, settings: SearchSettings,
                           progress: (SearchEvent) -> Void = { _ in }) throws -> (TrainedModel, SearchReport) {
        let started = ContinuousClock.now
        let finalDeadline: ContinuousClock.Instant? = settings.trials == nil ? started + .seconds(settings.timeBudget * 0.97) : nil
        guard let targetName = schema.target, let task = schema.task else {
            throw SearchError.invalidInput("a search needs a target column (--target)")
        }
        let metric = settings.metric ?? Metric.defaultFor(task.kind)
        guard metric.isRegression == (task.kind == .regression) else {
            throw SearchError.invalidInput("metric \(metric.rawValue) does not fit a \(task.kind.rawValue) task")
        }
        var warnings: [String] = []
        let (data, dropped) = try dropMissingTargets(frame, target: targetName, warnings: &warnings)
        let typed = try data.conforming(to: schema)
        let storage: ColumnKind = task.kind == .regression ? .numeric : .categorical
        let y = try TargetEncoding(column: typed[targetName]!.converted(to: storage), task: task)
        var weights = try weightColumn(typed, schema: schema)
        if settings.balanceClasses {
            guard task.kind != .regression else { throw SearchError.invalidInput("class weights need a classification task") }
            weights = ClassWeights.balanced(y, weights: weights)
        }
        let plan = try ValidationPlan.make(frame: typed, schema: schema, target: y, settings: settings)
        progress(.plan("validation: \(plan.description); \(plan.holdout.validation.count) rows held out"))

        let searchFrame = typed.selecting(rows: plan.holdout.train)
        let searchY = TargetEncoding(task: task, values: plan.holdout.train.map { y.values[$0] })
        let searchWeights = weights.map { w in plan.holdout.train.map { w[$0] } }
        let folds = try plan.folds.map { try FoldData(searchFrame, schema: schema, target: searchY, weights: searchWeights, fold: $0, seed: settings.seed) }

        let constraints = try monotoneConstraints(settings.monotone, schema: schema, featureNames: folds[0].featureNames)
        var families = settings.learners ?? Set(SearchSettings.learnerFamilies)
        if !settings.monotone.isEmpty {
            let unable = families.intersection(["random_forest", "extra_trees"])
            if !unable.isEmpty {
                families.subtract(unable)
                warnings.append("\(unable.sorted().joined(separator: " and ")) left out: they cannot honour monotonic constraints")
            }
        }
        var evaluator = TrialEvaluator(folds: folds, metric: metric, classCount: y.classCount, task: task.kind,
                                       searchRows: searchFrame.rowCount, coverFolds: plan.coverFolds)
        var outOfFold: [Int: [Double]] = [:]
        var queue = Portfolio.initial(rows: searchFrame.rowCount, task: task.kind, families: families).compactMap { $0.constrained(constraints) }
        var generator = SeededGenerator(seed: settings.seed &+ 17)
        var trials: [TrialResult] = []
        while true {
            if let limit = settings.trials, trials.count >= limit { break }
            if settings.stop?.isRequested == true {
                warnings.append("the search was stopped early on request after \(trials.count) trials")
                progress(.stopping(reason: "stop requested"))
                break
            }
            let searchDeadline = finalDeadline.map { $0 - .seconds(refitReserve(trials, budget: settings.timeBudget, folds: folds.count)) }
            if let searchDeadline, !trials.isEmpty, ContinuousClock.now + .seconds(estimate(trials, folds: folds.count)) > searchDeadline { break }
            let candidate: Portfolio.Candidate
            if !queue.isEmpty {
                candidate = queue.removeFirst()
            } else if families.contains("gbdt"), let base = bestBoosting(trials, metric: metric),
                      let next = Portfolio.perturb(base, &generator).constrained(constraints) {
                candidate = next
            } else {
                break
            }
            progress(.trialStarted(id: trials.count + 1, family: candidate.family, summary: candidate.summary))
            let (result, margins) = evaluator.evaluate(candidate, id: trials.count + 1, deadline: searchDeadline)
            trials.append(result)
            if let margins { outOfFold[result.id] = margins }
            let leader = trials.filter { $0.status == .completed }.min { a, b in metric.higherIsBetter ? a.mean > b.mean : a.mean < b.mean }
            progress(.trialFinished(result, best: leader, elapsed: (ContinuousClock.now - started).seconds))
        }

        let completed = trials.filter { $0.status == .completed }
        var best = completed.min { a, b in metric.higherIsBetter ? a.mean > b.mean : a.mean < b.mean }
        var allowEnsemble = settings.maxPredictMilliseconds == nil
        if let tolerance = settings.preferInterpretable, let top = best, !["linear", "ebm"].contains(top.family) {
            let glassbox = completed.filter { ["linear", "ebm"].contains($0.family) }
                .min { a, b in metric.higherIsBetter ? a.mean > b.mean : a.mean < b.mean }
            if let glassbox, abs(top.mean - glassbox.mean) <= tolerance {
                warnings.append("chose the interpretable \(glassbox.family) model (trial \(glassbox.id)), within \(format(abs(top.mean - glassbox.mean))) of the best (--prefer-interpretable \(tolerance))")
                best = glassbox
                allowEnsemble = false
            }
        }
        if settings.preferInterpretable != nil, let chosen = best, ["linear", "ebm"].contains(chosen.family) { allowEnsemble = false }
        var refitSeconds = 0.0
        progress(.refitting(best.map { "refitting trial \($0.id) (\($0.family)) on \(searchFrame.rowCount) search rows" } ?? "fitting the baseline"))
        let (pipeline, x) = try Pipeline.fit(searchFrame, schema: schema, target: searchY, options: options(settings.seed))
        var ensemble: SearchReport.EnsembleSummary?
        var model: FittedModel
        /// The configurations shipped (one, or an ensemble's members) and their weights, for `refitFull`.
        var shipped: [(learner: Learner, weight: Double)] = []
        if let best {
            let refitStarted = ContinuousClock.now
            model = try refitLearner(best).fit(x, target: searchY, weights: searchWeights, deadline: finalDeadline)
            refitSeconds = (ContinuousClock.now - refitStarted).seconds
            shipped = [(refitLearner(best), 1)]
            if allowEnsemble, let choice = selectEnsemble(completed, outOfFold: outOfFold, truth: searchY, metric: metric, task: task.kind),
               choice.counts.count > 1 {
                let members = choice.counts.keys.sorted()
                let cost = members.compactMap { id in completed.first { $0.id == id }?.fitSeconds }.reduce(0, +) * 1.5
                if let finalDeadline, ContinuousClock.now + .seconds(cost) > finalDeadline {
                    warnings.append("an ensemble of \(members.count) models scored better out of fold, but there was no time left to refit it; shipping the best single model")
                } else {
                    let total = Double(choice.counts.values.reduce(0, +))
                    var fitted: [FittedModel] = []
                    for id in members {
                        let trial = completed.first { $0.id == id }!
                        fitted.append(id == best.id ? model : try refitLearner(trial).fit(x, target: searchY, weights: searchWeights, deadline: finalDeadline))
                    }
                    let weights = members.map { Double(choice.counts[$0]!) / total }
                    shipped = zip(members, weights).map { id, weight in (refitLearner(completed.first { $0.id == id }!), weight) }
                    model = .ensemble(try EnsembleModel(task: task.kind, outputs: evaluator.outputs, members: fitted, weights: weights))
                    ensemble = SearchReport.EnsembleSummary(members: members, weights: weights, outOfFoldScore: choice.score,
                                                            bestSingleOutOfFoldScore: choice.bestSingleScore)
                }
            }
        } else {
            warnings.append("the budget was too small for a single complete trial; shipping the fastest baseline (a ridge model)")
            model = try Learner.linear(LinearParameters()).fit(x, target: searchY, weights: searchWeights)
            shipped = [(.linear(LinearParameters()), 1)]
        }
        var latency: Double?
        if let limit = settings.maxPredictMilliseconds {
            var candidates = completed.sorted { metric.higherIsBetter ? $0.mean > $1.mean : $0.mean < $1.mean }.filter { $0.id != best?.id }
            latency = try singleRowMilliseconds(model, pipeline: pipeline, frame: searchFrame)
            while let measured = latency, measured > limit, !candidates.isEmpty {
                let next = candidates.removeFirst()
                warnings.append("trial \(best?.id ?? 0) scores one row in \(format(measured)) ms, over --max-predict-ms \(limit); trying trial \(next.id)")
                best = next
                model = try refitLearner(next).fit(x, target: searchY, weights: searchWeights, deadline: finalDeadline)
                latency = try singleRowMilliseconds(model, pipeline: pipeline, frame: searchFrame)
            }
            if let measured = latency, measured > limit { warnings.append("no evaluated model scores one row within \(limit) ms (best: \(format(measured)) ms)") }
        }
        let holdoutFrame = typed.selecting(rows: plan.holdout.validation)
        let holdoutY = plan.holdout.validation.map { y.values[$0] }
        let holdoutScore = try metric.evaluate(truth: holdoutY, predictions: model.predict(pipeline.transform(holdoutFrame)), classCount: y.classCount)
        let cv = ensemble?.outOfFoldScore ?? best?.mean ?? holdoutScore
        let spread = best?.std ?? 0
        let gap = metric.higherIsBetter ? cv - holdoutScore : holdoutScore - cv
        if gap > 2 * spread + 1e-9, best != nil {
            warnings.append("the holdout \(metric.rawValue) is worse than cross-validation by \(format(gap)), more than twice the folds' spread (\(format(spread))): the validation score is optimistic")
        }
        var trained = TrainedModel(
            keelVersion: TrainedModel.keelVersion, createdAt: ISO8601DateFormatter().string(from: Date()), schema: schema,
            pipeline: pipeline, model: model, metric: metric, validation: plan.description, crossValidatedScore: cv,
            holdoutScore: holdoutScore, dataFingerprint: frame.fingerprint, seed: settings.seed, trialSchedule: trials.map(\.learner))
        // Importance is measured on the model the holdout scored, before any refit on all rows.
        let importance = try PermutationImportance.compute(model: trained, frame: holdoutFrame, truth: holdoutY, repeats: 3,
                                                           seed: settings.seed &+ 3, deadline: finalDeadline)
        if importance == nil { warnings.append("no time was left to measure feature importance") }
        var refittedOnAllRows = false
        if settings.refitFull {
            let estimate = refitSeconds * Double(typed.rowCount) / Double(max(searchFrame.rowCount, 1)) * Double(shipped.count) * 1.3
            if let finalDeadline, ContinuousClock.now + .seconds(estimate) > finalDeadline {
                warnings.append("no time was left to refit on all rows (--refit-full); shipping the model the holdout scored")
            } else {
                progress(.refitting("refitting on all \(typed.rowCount) rows (--refit-full)"))
                (trained.pipeline, trained.model) = try refitAll(shipped, frame: typed, schema: schema, target: y, weights: weights,
                                                                 task: task.kind, outputs: evaluator.outputs, seed: settings.seed)
                refittedOnAllRows = true
                warnings.append("the shipped model was refitted on all \(typed.rowCount) rows after the holdout was scored: the holdout score describes the model before that refit")
            }
        }
        let report = SearchReport(
            task: task.kind, metric: metric, validation: plan.description, searchRows: searchFrame.rowCount,
            holdoutRows: holdoutFrame.rowCount, droppedRows: dropped, trials: trials, bestTrial: best?.id ?? 0,
            crossValidatedScore: cv, crossValidatedStd: spread, holdoutScore: holdoutScore, gap: gap, ensemble: ensemble,
            importance: importance ?? [], refittedOnAllRows: refittedOnAllRows, warnings: warnings,
            secondsUsed: (ContinuousClock.now - started).seconds, budgetSeconds: settings.trials == nil ? settings.timeBudget : nil,
            seed: settings.seed)
        return (trained, report)
    }

    /// The shipped configuration fitted again on every row, with a pipeline fitted on every row.
    private static func refitAll(_ shipped: [(learner: Learner, weight: Double)], frame: Frame, schema: Schema, target: TargetEncoding,
                                 weights: [Double]?, task: TaskKind, outputs: Int, seed: UInt64) throws -> (Pipeline, FittedModel) {
        let (pipeline, x) = try Pipeline.fit(frame, schema: schema, target: target, options: options(seed))
        let models = try shipped.map { try $0.learner.fit(x, target: target, weights: weights) }
        if models.count == 1 { return (pipeline, models[0]) }
        return (pipeline, .ensemble(try EnsembleModel(task: task, outputs: outputs, members: models, weights: shipped.map(\.weight))))
    }

    /// Ensemble selection over the ten best completed trials' out-of-fold margins.
    private static func selectEnsemble(_ completed: [TrialResult], outOfFold: [Int: [Double]], truth: TargetEncoding, metric: Metric,
                                       task: TaskKind) -> EnsembleSelection.Choice? {
        let top = completed.sorted { metric.higherIsBetter ? $0.mean > $1.mean : $0.mean < $1.mean }.prefix(10)
        let candidates = top.compactMap { trial in outOfFold[trial.id].map { (id: trial.id, margins: $0) } }
        guard let choice = EnsembleSelection.select(candidates, truth: truth.values, metric: metric, task: task,
                                                    outputs: task == .multiclass ? truth.classCount : 1, classCount: truth.classCount) else { return nil }
        let improves = metric.higherIsBetter ? choice.score > choice.bestSingleScore : choice.score < choice.bestSingleScore
        return improves ? choice : nil
    }

    /// Median milliseconds to score one row through the pipeline and model, over 50 rows.
    private static func singleRowMilliseconds(_ model: FittedModel, pipeline: Pipeline, frame: Frame) throws -> Double {
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
    private static func monotoneConstraints(_ monotone: [String: Int], schema: Schema, featureNames: [String]) throws -> [Int] {
        for (column, direction) in monotone {
            guard let described = schema[column] else { throw SearchError.invalidInput("--monotone names column '\(column)', which is not in the data") }
            guard described.role == .feature, described.kind == .numeric || described.kind == .boolean else {
                throw SearchError.invalidInput("--monotone needs a numeric feature column; '\(column)' is \(described.kind.rawValue) with role \(described.role.rawValue)")
            }
            guard direction == 1 || direction == -1 else { throw SearchError.invalidInput("--monotone takes +1 or -1 for '\(column)', not \(direction)") }
        }
        return featureNames.map { monotone[$0] ?? 0 }
    }

    static func options(_ seed: UInt64) -> PipelineOptions {
        var options = PipelineOptions()
        options.seed = seed
        return options
    }

    // MARK: Steps

    private static func dropMissingTargets(_ frame: Frame, target: String, warnings: inout [String]) throws -> (Frame, Int) {
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

    private static func weightColumn(_ frame: Frame, schema: Schema) throws -> [Double]? {
        guard let name = schema.columns(withRole: .weight).first?.name, case .numeric(let values) = frame[name]?.values else { return nil }
        if let row = values.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
            throw SearchError.invalidInput("weight column '\(name)' has \(values[row]) at row \(row + 1); weights must be finite and not negative")
        }
        return values
    }

    /// Time kept back for refitting the winner on all search rows, scoring the holdout and writing files.
    private static func refitReserve(_ trials: [TrialResult], budget: Double, folds: Int) -> Double {
        let slowestFold = trials.filter { $0.status == .completed }.map(\.fitSeconds).max() ?? 0
        return max(budget * 0.1, slowestFold * 1.5 + 0.5)
    }

    /// Expected seconds for the next trial: the typical completed trial's folds.
    private static func estimate(_ trials: [TrialResult], folds: Int) -> Double {
        let costs = trials.filter { $0.status == .completed }.map { $0.fitSeconds * Double(folds) }.sorted()
        return costs.isEmpty ? 0 : costs[costs.count / 2]
    }

    private static func bestBoosting(_ trials: [TrialResult], metric: Metric) -> GradientBoostingParameters? {
        let boosting = trials.filter { $0.status == .completed && $0.family == "gbdt" }
        guard let best = boosting.min(by: { metric.higherIsBetter ? $0.mean > $1.mean : $0.mean < $1.mean }),
              case .gradientBoosting(let p) = best.learner else { return nil }
        return p
    }

    /// Boosting is refitted with the rounds early stopping chose in the folds (a little more for the larger
    /// training set) and no early stopping, since no rows are left to stop on.
    private static func refitLearner(_ trial: TrialResult) -> Learner {
        guard case .gradientBoosting(var p) = trial.learner, !trial.bestRounds.isEmpty else { return trial.learner }
        let mean = Double(trial.bestRounds.reduce(0, +)) / Double(trial.bestRounds.count)
        p.rounds = max(1, Int((mean * 1.1).rounded()))
        p.earlyStoppingRounds = 0
        return .gradientBoosting(p)
    }

    static func format(_ value: Double) -> String { String(format: "%.4f", value) }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
