import Foundation
import KeelData
import KeelLearn

/// After the choice: the holdout score against the baseline, calibration, the optional refit on all rows, and
/// the report with its analyses.
extension SearchRun {
    /// Scores the holdout once, measures importance on that model, optionally refits on all rows, and reports.
    mutating func finish(_ choice: Choice, progress: (SearchEvent) -> Void) throws -> (TrainedModel, SearchReport) {
        let holdoutFrame = typed.selecting(rows: plan.holdout.validation)
        let holdoutY = plan.holdout.validation.map { y.values[$0] }
        // The time left is sized again for the model as shipped, at the pace the machine has now.
        budget.settleFinalDeadline(values: choice.model.storedValues,
                            predictMillisecondsPer1000: (choice.best?.predictMillisecondsPer1000 ?? 0) * Double(choice.shipped.count), fresh: true)
        let calibration: CalibrationChoice? = outOfFoldMargins(choice).flatMap { margins in
            switch task.kind {
            case .binary:
                CalibrationChoice.decide(margins: margins, labels: searchY.values, metric: metric, costs: settings.costs, seed: settings.seeds.seed("calibration"))
            case .multiclass:
                CalibrationChoice.decideMulticlass(margins: margins, labels: searchY.values, classes: y.classCount, seed: settings.seeds.seed("calibration"))
            case .regression:
                nil
            }
        }
        var shippedForHoldout = TrainedModel(
            keelVersion: TrainedModel.keelVersion, createdAt: "", schema: schema, pipeline: choice.pipeline, model: choice.model, metric: metric,
            validation: "", crossValidatedScore: 0, holdoutScore: 0, dataFingerprint: "", seed: 0, trialSchedule: [])
        shippedForHoldout.calibration = calibration?.calibration
        // The holdout scores the model as shipped, calibration included.
        let scoringStarted = ContinuousClock.now
        let scoredOutputs = try shippedForHoldout.outputs(holdoutFrame)
        let holdoutScore = try metric.evaluate(truth: holdoutY, predictions: scoredOutputs, classCount: y.classCount)
        let scoringSeconds = (ContinuousClock.now - scoringStarted).seconds
        let cv = choice.ensemble?.outOfFoldScore ?? choice.best?.mean ?? holdoutScore
        let spread = choice.best?.std ?? 0
        // The trivial baseline on the same rows: the search rows' class shares (its probabilities, and so
        // the majority class) for classifiers, their mean for regression. A model that does not beat it by
        // more than the folds' spread is no better than knowing nothing about the row.
        let baseline = Baseline(searchY)
        let baselineScore = try metric.evaluate(truth: holdoutY, predictions: baseline.predictions(rows: holdoutY.count), classCount: y.classCount)
        let margin = metric.higherIsBetter ? holdoutScore - baselineScore : baselineScore - holdoutScore
        let noBetterThanBaseline = !(margin > max(spread, 1e-9))
        if noBetterThanBaseline {
            warnings.append("the model is no better than the baseline (\(baseline.description)): holdout \(metric.rawValue) \(Search.format(holdoutScore)) against \(Search.format(baselineScore)), a difference within the folds' spread (\(Search.format(spread))); its predictions carry no more information than the target's distribution (--require-better-than-baseline makes this an error)")
        }
        let gap = metric.higherIsBetter ? cv - holdoutScore : holdoutScore - cv
        // One validation split has no spread to compare with; the warning needs folds.
        if gap > 2 * spread + 1e-9, let best = choice.best, best.foldScores.count > 1 {
            warnings.append("the holdout \(metric.rawValue) is worse than cross-validation by \(Search.format(gap)), more than twice the folds' spread (\(Search.format(spread))): the validation score is optimistic")
        }
        var trained = TrainedModel(
            keelVersion: TrainedModel.keelVersion, createdAt: ISO8601DateFormatter().string(from: Date()), schema: schema,
            pipeline: choice.pipeline, model: choice.model, metric: metric, validation: plan.description, crossValidatedScore: cv,
            holdoutScore: holdoutScore, dataFingerprint: frame.fingerprint, seed: settings.seed, trialSchedule: trials.map(\.learner))
        trained.calibration = calibration?.calibration
        trained.decisionThreshold = calibration.map { $0.thresholdReason == "default" ? nil : $0.threshold } ?? nil
        // The model the holdout scored is the one importance and attributions describe; a refit on all rows
        // comes first, as it is the one step that changes what ships, and the analyses get the time left.
        let scored = trained
        let refitted = settings.refitFull ? try refitOnAllRows(&trained, choice, progress: progress) : false
        holdoutOutputs = refitted ? nil : scoredOutputs
        // Three shuffles of every column, on as many holdout rows as fit in the budget's share of the time left.
        let passes = Double(3 * schema.featureNames.count)
        var importanceRows = Array(0..<holdoutFrame.rowCount)
        let affordable = budget.importanceRows(holdoutFrame.rowCount, passes: passes, secondsPerPass: scoringSeconds)
        if settings.analyst != nil, affordable < holdoutFrame.rowCount {
            var generator = settings.seeds.generator("importance.rows")
            generator.shuffle(&importanceRows)
            importanceRows = Array(importanceRows.prefix(affordable)).sorted()
            warnings.append("feature importance was measured on \(importanceRows.count) of the \(holdoutFrame.rowCount) holdout rows, to keep within the budget")
        }
        let importance = try settings.analyst?.permutationImportance(scored, frame: holdoutFrame.selecting(rows: importanceRows),
                                                                     truth: importanceRows.map { holdoutY[$0] }, repeats: 3,
                                                                     seed: settings.seeds.seed("importance.shuffles"), deadline: budget.finalDeadline)
        if settings.analyst != nil, importance == nil {
            // One verdict: a sample that was planned but never measured is not reported as measured.
            warnings.removeAll { $0.hasPrefix("feature importance was measured on") }
            warnings.append("no time was left to measure feature importance")
        }
        // Attributions cost about as much as a few predictions per row: 200 rows, when the budget's share is left.
        var attribution: [ColumnAttribution] = []
        if let analyst = settings.analyst, budget.allowsAttributions {
            let rows = Array(0..<min(200, holdoutFrame.rowCount))
            attribution = try analyst.attributionRanking(scored, frame: holdoutFrame.selecting(rows: rows))
        }
        var report = SearchReport(
            task: task.kind, metric: metric, validation: plan.description, searchRows: searchFrame.rowCount,
            holdoutRows: holdoutFrame.rowCount, droppedRows: dropped, trials: trials, bestTrial: choice.best?.id ?? 0,
            crossValidatedScore: cv, crossValidatedStd: spread, holdoutScore: holdoutScore, gap: gap, ensemble: choice.ensemble,
            importance: importance ?? [], attributionImportance: attribution, calibration: calibration, refittedOnAllRows: refitted, warnings: warnings,
            secondsUsed: budget.elapsed, budgetSeconds: settings.trials == nil ? settings.timeBudget : nil,
            seed: settings.seed, memory: memory,
            replay: ReplaySchedule(trialCount: trials.count, stoppedTrials: trials.filter { $0.status == .stopped }.map(\.id),
                                   ensembleSkipped: ensembleSkipped, ensembleMembers: ensembleMembers, stackSkipped: stackSkipped,
                                   seedBagged: seedBagged, refitCutShort: refitCutShort,
                                   refittedOnAllRows: refitted))
        report.fallback = fallback
        report.leftOut = LeftOutColumn.list(schema: schema, frame: frame, screened: Set(columnScreen.filter(\.dropped).map(\.column)),
                                            probed: identifierScreen.map { ($0.column, $0.probeScores(metric)) })
        report.baseline = SearchReport.BaselineComparison(description: baseline.description, holdoutScore: baselineScore,
                                                          noBetter: noBetterThanBaseline)
        report.replay.columnScreen = settings.screenColumns ? columnScreen : nil
        report.replay.identifierScreen = settings.screenColumns ? identifierScreen : nil
        report.replay.valueScreen = valueScreen
        report.replay.shippedFoldModel = shippedFoldModel ? true : nil
        report.replay.ensemblePicks = ensemblePicks
        report.replay.baselineCutShort = baselineCutShort ? true : nil
        report.replay.searchVersion = Search.semanticsVersion
        report.seedBags = seedBagged ? Self.seedBags : nil
        return (trained, report)
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
    var fullRefitScale: Double { Double(typed.rowCount) / Double(max(searchFrame.rowCount, 1)) * 1.3 }

    private mutating func refitOnAllRows(_ trained: inout TrainedModel, _ choice: Choice, progress: (SearchEvent) -> Void) throws -> Bool {
        let estimate = choice.refitSeconds * fullRefitScale + choice.writeEstimate(choice.model)
        guard budget.allows(.refitFull, cost: estimate) else {
            warnings.append("no time was left to refit on all rows (--refit-full); shipping the model the holdout scored\(budget.replay == nil ? "" : " (replayed)")")
            return false
        }
        progress(.refitting("refitting on all \(typed.rowCount) rows (--refit-full)"))
        let (pipeline, model) = try Search.refitAll(choice.shipped, intercepts: choice.ensemble?.intercepts, frame: typed, schema: schema, target: y, weights: weights,
                                                    task: task.kind, outputs: evaluator.outputs, options: pipelineOptions, deadline: budget.finalDeadline)
        // A refit the deadline cut short is a lesser model than the one the holdout scored: never ship it.
        if budget.isPastFinal {
            warnings.append("the refit on all rows (--refit-full) ran out of time; shipping the model the holdout scored")
            return false
        }
        (trained.pipeline, trained.model) = (pipeline, model)
        trained.refittedOnAllRows = true
        warnings.append("the shipped model was refitted on all \(typed.rowCount) rows after the holdout was scored: the holdout score describes the model before that refit")
        return true
    }
}
