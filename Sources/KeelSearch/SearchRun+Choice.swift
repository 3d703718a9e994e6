import Foundation
import KeelData
import KeelLearn

/// Choosing what ships: the best trial refitted (or the baseline when none completed), then blends, stacks
/// and seed bags while time allows.
extension SearchRun {
    /// The best trial (or a glassbox model within `preferInterpretable`), refitted on the search part; an
    /// ensemble when selection beats it out of fold and time allows; a faster model when the measured
    /// single-row latency is over the limit.
    mutating func choose(progress: (SearchEvent) -> Void) throws -> Choice {
        let completed = trials.filter { $0.status == .completed }
        var best = leader(completed)
        var allowEnsemble = settings.maxPredictMilliseconds == nil
        if let tolerance = settings.preferInterpretable, let top = best, !top.learner.family.isInterpretable,
           let glassbox = leader(completed.filter { $0.learner.family.isInterpretable }), abs(top.mean - glassbox.mean) <= tolerance {
            warnings.append("chose the interpretable \(glassbox.family) model (trial \(glassbox.id)), within \(Search.format(abs(top.mean - glassbox.mean))) of the best (--prefer-interpretable \(tolerance))")
            best = glassbox
        }
        if settings.preferInterpretable != nil, let chosen = best, chosen.learner.family.isInterpretable { allowEnsemble = false }
        progress(.refitting(best.map { "refitting trial \($0.id) (\($0.family)) on \(data.searchFrame.rowCount) search rows" } ?? "fitting the baseline"))
        // The refit may run until the model must be final, at the pace the machine has now.
        budget.settleFinalDeadline(values: best?.storedValues ?? 0, predictMillisecondsPer1000: best?.predictMillisecondsPer1000 ?? 0, fresh: true)
        let (pipeline, x) = try Pipeline.fit(data.searchFrame, schema: schema, target: data.searchY, options: pipelineOptions)
        guard let chosen = best else { return try fitBaseline(pipeline: pipeline, x: x) }
        let foldModel = leaderFoldModel.flatMap { $0.trial == chosen.id ? $0.model : nil }
        let replayedFold = budget.replayShipsFoldModel && foldModel != nil
        let (model, seconds) = replayedFold ? (foldModel!, 0) : try Search.timed { try fit(chosen, x) }
        var choice = Choice(pipeline: pipeline, model: model, best: chosen, ensemble: nil,
                            shipped: [(Search.refitLearner(chosen), 1)], memberSeconds: [seconds])
        if replayedFold || budget.isPastFinal {
            if let foldModel {
                // The cut-short refit is a lesser model: ship the complete one the trial validated instead.
                let rows = evaluator.folds[0].train.rowCount
                warnings.append("the refit of trial \(chosen.id) on all \(data.searchFrame.rowCount) search rows was cut short by the time budget; shipping its complete model from the first fold instead (fitted on \(rows) rows, the model cross-validation scored)")
                choice.pipeline = evaluator.folds[0].pipeline
                choice.model = foldModel
                choice.shipped = [(chosen.learner, 1)]
                decisions.shippedFoldModel = true
            } else {
                warnings.append("the refit of the chosen model was cut short by the time budget; its holdout score below shows what that cost")
                decisions.refitCutShort = true
            }
        }
        let encodeStarted = ContinuousClock.now
        _ = try? Search.modelEncoder().encode(choice.model)
        choice.writeSeconds = (ContinuousClock.now - encodeStarted).seconds
        choice.writeSecondsPerValue = choice.writeSeconds / Double(max(choice.model.storedValues, 1))
        if choice.model.storedValues >= TrialEvaluator.encodingProbeValues {
            budget.measuredEncoding(seconds: choice.writeSeconds, values: choice.model.storedValues)
        }
        budget.settleFinalDeadline(values: choice.model.storedValues, predictMillisecondsPer1000: chosen.predictMillisecondsPer1000)
        // Ensembles only while there is time to refit their members: selection alone takes seconds on large data.
        // (A replay follows the recorded flags, which say what this run skipped.)
        if allowEnsemble, !budget.allowsEnsembles(afterCutShort: decisions.refitCutShort || decisions.shippedFoldModel) {
            allowEnsemble = false
            if budget.isClocked { (decisions.ensembleSkipped, decisions.stackSkipped) = (true, true) }
        }
        if allowEnsemble { try blend(&choice, completed: completed, x: x) }
        if allowEnsemble && settings.stack { try stack(&choice, completed: completed, x: x) }
        if allowEnsemble { try bag(&choice, x: x) }
        // (The fold model has its own pipeline, so the search rows' features do not fit it.)
        if let limit = settings.maxPredictMilliseconds, !decisions.shippedFoldModel { try keepWithin(limit, &choice, completed: completed, x: x) }
        return choice
    }

    /// No trial completed: the fallback family's model (a ridge model), given half the time left, so that a
    /// slow last pass and the steps after it still end within the budget. Says why, and whether it converged.
    private mutating func fitBaseline(pipeline: Pipeline, x: FeatureMatrix) throws -> Choice {
        let baseline = LearnerFamilies.fallback
        if let asked = settings.learners, !asked.contains(baseline.family.name) {
            // The user asked for families the fallback is not of: say which and why, so the run can fail.
            let why = trials.map { "trial \($0.id) \($0.family) \($0.status.rawValue)\($0.message.map { " (\($0))" } ?? "")" }.joined(separator: "; ")
            decisions.fallback = "no trial of \(asked.sorted().joined(separator: ", ")) (--learner) completed\(why.isEmpty ? "" : ": " + why); a ridge model was fitted instead"
        }
        warnings.append("the budget was too small for a single complete trial; shipping the fastest baseline (a ridge model)")
        // The ridge model improves with every pass and may stop after any: it gets half the time left, so
        // that a slow last pass and the steps after it still end within the budget.
        let deadline = budget.finalDeadline.map { ContinuousClock.now + ($0 - ContinuousClock.now) / 2 }
        let model = try baseline.fit(x, target: data.searchY, weights: data.searchWeights, deadline: deadline)
        if let passes = model.linearConvergence, !passes.converged, let deadline, ContinuousClock.now >= deadline {
            warnings.append("the ridge model stopped at the deadline after \(passes.iterations) coordinate-descent passes, before it converged; give more --time for a converged fit")
            decisions.baselineCutShort = true
        }
        return Choice(pipeline: pipeline, model: model, best: nil, ensemble: nil, shipped: [(baseline, 1)], memberSeconds: [0])
    }

    func fit(_ trial: TrialResult, _ x: FeatureMatrix) throws -> FittedModel {
        try Search.refitLearner(trial).fit(x, target: data.searchY, weights: data.searchWeights, deadline: budget.finalDeadline)
    }
}
