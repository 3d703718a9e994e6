import Foundation
import KeelData
import KeelLearn

/// After the choice: the holdout score against the baseline, calibration, the optional refit on all rows, and
/// the report with its analyses.
extension SearchRun {
    /// Scores the holdout once, measures importance on that model, optionally refits on all rows, and reports.
    mutating func finish(_ choice: Choice, progress: (SearchEvent) -> Void) throws -> (TrainedModel, SearchReport) {
        // The time left is sized again for the model as shipped, at the pace the machine has now.
        budget.settleFinalDeadline(values: choice.model.storedValues,
                                   predictMillisecondsPer1000: (choice.best?.predictMillisecondsPer1000 ?? 0) * Double(choice.shipped.count), fresh: true)
        let calibration = calibrate(choice)
        let predictor = Predictor(schema: schema, pipeline: choice.pipeline, model: choice.model, calibration: calibration?.calibration,
                                  decisionThreshold: calibration.map { $0.thresholdReason == "default" ? nil : $0.threshold } ?? nil)
        var trained = TrainedModel(predictor: predictor, provenance: ModelProvenance(
            createdAt: ISO8601DateFormatter().string(from: Date()), metric: data.metric, validation: data.plan.description, crossValidatedScore: .nan,
            holdoutScore: .nan, dataFingerprint: data.frame.fingerprint, seed: settings.seed, trialSchedule: trials.map(\.learner)))
        // The holdout scores the model as shipped, calibration included.
        let holdout = try scoreHoldout(trained, choice)
        (trained.provenance.holdoutScore, trained.provenance.crossValidatedScore) = (holdout.score, holdout.crossValidated)
        // The model the holdout scored is the one importance and attributions describe; a refit on all rows
        // comes first, as it is the one step that changes what ships, and the analyses get the time left.
        let scored = trained
        let refitted = settings.refitFull ? try refitOnAllRows(&trained, choice, progress: progress) : false
        holdoutOutputs = refitted ? nil : holdout.outputs
        let (importance, attribution) = try analyses(scored, scoringSeconds: holdout.seconds)
        var report = SearchReport(
            task: data.task.kind, metric: data.metric, validation: data.plan.description, searchRows: data.searchFrame.rowCount,
            holdoutRows: data.plan.holdout.validation.count, droppedRows: data.dropped, trials: trials, bestTrial: choice.best?.id ?? 0,
            crossValidatedScore: holdout.crossValidated, crossValidatedStd: holdout.spread, holdoutScore: holdout.score, gap: holdout.gap,
            ensemble: choice.ensemble, importance: importance ?? [], attributionImportance: attribution, calibration: calibration,
            refittedOnAllRows: refitted, warnings: warnings, secondsUsed: budget.elapsed,
            budgetSeconds: settings.trials == nil ? settings.timeBudget : nil, seed: settings.seed, memory: memory,
            replay: decisions.schedule(trials: trials, splits: data.plan.folds.count, refittedOnAllRows: refitted,
                                     screened: settings.screenColumns))
        report.fallback = decisions.fallback
        report.leftOut = LeftOutColumn.list(schema: schema, frame: data.frame, screened: Set(decisions.columnScreen.filter(\.dropped).map(\.column)),
                                            probed: decisions.identifierScreen.map { ($0.column, $0.probeScores(data.metric)) })
        report.baseline = holdout.baseline
        report.seedBags = decisions.seedBagged ? Self.seedBags : nil
        return (trained, report)
    }

    /// The probability calibration the shipped model's out-of-fold margins call for (classifiers only).
    func calibrate(_ choice: Choice) -> CalibrationChoice? {
        outOfFoldMargins(choice).flatMap { margins in
            switch data.task.kind {
            case .binary:
                CalibrationChoice.decide(margins: margins, labels: data.searchY.values, metric: data.metric, costs: settings.costs,
                                         seed: settings.seeds.seed("calibration"))
            case .multiclass:
                CalibrationChoice.decideMulticlass(margins: margins, labels: data.searchY.values, classes: data.y.classCount,
                                                   seed: settings.seeds.seed("calibration"))
            case .regression:
                nil
            }
        }
    }

    /// The holdout's verdict on the shipped model: its outputs and score, the cross-validated score it is
    /// compared with, and the trivial baseline on the same rows.
    struct HoldoutVerdict {
        var outputs: [Double]
        var score: Double
        /// Seconds scoring the holdout took (what the analyses' passes are sized by).
        var seconds: Double
        var crossValidated: Double
        var spread: Double
        /// How much worse the holdout is than cross-validation (in the metric's direction).
        var gap: Double
        var baseline: SearchReport.BaselineComparison
    }

    /// Scores `model` on the holdout and says, in the warnings, when it is no better than the baseline or
    /// when cross-validation was optimistic.
    mutating func scoreHoldout(_ model: TrainedModel, _ choice: Choice) throws -> HoldoutVerdict {
        let rows = data.plan.holdout.validation
        let truth = rows.map { data.y.values[$0] }
        let (outputs, seconds) = try Search.timed { try model.predictor.outputs(data.typed.selecting(rows: rows)) }
        let score = try data.metric.evaluate(truth: truth, predictions: outputs, classCount: data.y.classCount)
        let cv = choice.ensemble?.outOfFoldScore ?? choice.best?.mean ?? score
        let spread = choice.best?.std ?? 0
        // The trivial baseline on the same rows: the search rows' class shares (its probabilities, and so
        // the majority class) for classifiers, their mean for regression. A model that does not beat it by
        // more than the folds' spread is no better than knowing nothing about the row.
        let baseline = Baseline(data.searchY)
        let baselineScore = try data.metric.evaluate(truth: truth, predictions: baseline.predictions(rows: truth.count), classCount: data.y.classCount)
        let margin = data.metric.higherIsBetter ? score - baselineScore : baselineScore - score
        let noBetter = !(margin > max(spread, 1e-9))
        if noBetter {
            warnings.append("the model is no better than the baseline (\(baseline.description)): holdout \(data.metric.rawValue) \(Search.format(score)) against \(Search.format(baselineScore)), a difference within the folds' spread (\(Search.format(spread))); its predictions carry no more information than the target's distribution (--require-better-than-baseline makes this an error)")
        }
        let gap = data.metric.higherIsBetter ? cv - score : score - cv
        // One validation split has no spread to compare with; the warning needs folds.
        if gap > 2 * spread + 1e-9, let best = choice.best, best.foldScores.count > 1 {
            warnings.append("the holdout \(data.metric.rawValue) is worse than cross-validation by \(Search.format(gap)), more than twice the folds' spread (\(Search.format(spread))): the validation score is optimistic")
        }
        return HoldoutVerdict(outputs: outputs, score: score, seconds: seconds, crossValidated: cv, spread: spread, gap: gap,
                              baseline: SearchReport.BaselineComparison(description: baseline.description, holdoutScore: baselineScore, noBetter: noBetter))
    }

    /// Permutation importance (three shuffles of every column, on as many holdout rows as the budget's share
    /// of the time left allows) and attributions (200 rows, when the budget's share is left) of `scored`.
    mutating func analyses(_ scored: TrainedModel, scoringSeconds: Double) throws -> ([FeatureImportance]?, [ColumnAttribution]) {
        guard let analyst = settings.analyst else { return (nil, []) }
        let holdoutFrame = data.typed.selecting(rows: data.plan.holdout.validation)
        let holdoutY = data.plan.holdout.validation.map { data.y.values[$0] }
        var importanceRows = Array(0..<holdoutFrame.rowCount)
        let affordable = budget.importanceRows(holdoutFrame.rowCount, passes: Double(3 * schema.featureNames.count), secondsPerPass: scoringSeconds)
        if affordable < holdoutFrame.rowCount {
            var generator = settings.seeds.generator("importance.rows")
            generator.shuffle(&importanceRows)
            importanceRows = Array(importanceRows.prefix(affordable)).sorted()
        }
        let importance = try analyst.permutationImportance(scored, frame: holdoutFrame.selecting(rows: importanceRows),
                                                           truth: importanceRows.map { holdoutY[$0] }, repeats: 3,
                                                           seed: settings.seeds.seed("importance.shuffles"), deadline: budget.finalDeadline)
        // One verdict: a sample that was planned but never measured is not reported as measured.
        if importance == nil {
            warnings.append("no time was left to measure feature importance")
        } else if importanceRows.count < holdoutFrame.rowCount {
            warnings.append("feature importance was measured on \(importanceRows.count) of the \(holdoutFrame.rowCount) holdout rows, to keep within the budget")
        }
        var attribution: [ColumnAttribution] = []
        if budget.allowsAttributions {
            attribution = try analyst.attributionRanking(scored, frame: holdoutFrame.selecting(rows: Array(0..<min(200, holdoutFrame.rowCount))))
        }
        return (importance, attribution)
    }

    /// The shipped model's out-of-fold margins: the chosen trial's, or the ensemble's weighted blend.
    func outOfFoldMargins(_ choice: Choice) -> [Double]? {
        if let ensemble = choice.ensemble {
            var blend: [Double]?
            for (member, weight) in zip(ensemble.members, ensemble.weights) {
                guard let margins = outOfFold[member] else { return nil }
                if blend == nil { blend = ensemble.intercepts.map { b in margins.indices.map { b[$0 % b.count] } } ?? [Double](repeating: 0, count: margins.count) }
                for i in margins.indices { blend![i] += weight * margins[i] }
            }
            return blend
        }
        return choice.best.flatMap { outOfFold[$0.id] }
    }

    /// How many times a refit on the search rows a refit on all rows takes: the rows' ratio, with a 30% margin.
    var fullRefitScale: Double { Double(data.typed.rowCount) / Double(max(data.searchFrame.rowCount, 1)) * 1.3 }

    private mutating func refitOnAllRows(_ trained: inout TrainedModel, _ choice: Choice, progress: (SearchEvent) -> Void) throws -> Bool {
        let estimate = choice.refitSeconds * fullRefitScale + choice.writeEstimate(choice.model)
        guard budget.allows(.refitFull, cost: estimate) else {
            warnings.append("no time was left to refit on all rows (--refit-full); shipping the model the holdout scored\(budget.replay == nil ? "" : " (replayed)")")
            return false
        }
        progress(.refitting("refitting on all \(data.typed.rowCount) rows (--refit-full)"))
        let (pipeline, model) = try Search.refitAll(choice.shipped, intercepts: choice.ensemble?.intercepts, frame: data.typed, schema: schema, target: data.y, weights: data.weights,
                                                    task: data.task.kind, outputs: evaluator.outputs, options: pipelineOptions, deadline: budget.finalDeadline)
        // A refit the deadline cut short is a lesser model than the one the holdout scored: never ship it.
        if budget.isPastFinal {
            warnings.append("the refit on all rows (--refit-full) ran out of time; shipping the model the holdout scored")
            return false
        }
        (trained.predictor.pipeline, trained.predictor.model) = (pipeline, model)
        trained.provenance.refittedOnAllRows = true
        warnings.append("the shipped model was refitted on all \(data.typed.rowCount) rows after the holdout was scored: the holdout score describes the model before that refit")
        return true
    }
}
