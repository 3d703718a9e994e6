import Foundation
import KeelData
import KeelLearn

/// What the search ships beyond its best trial, each step only when its refits fit the time left: a greedy
/// blend, a stacked second layer (`--stack`), seeds averaged for sampled boosting, and, under
/// `--max-predict-ms`, a fallback down the leaderboard to a model fast enough to serve.
extension SearchRun {
    /// Replaces the single model by the selected ensemble when it wins out of fold, choosing among members
    /// whose refits (and writes: about twice the encoding) fit the time left; with `refitFull` that includes
    /// their refit on all rows, since a blend of models fitted on fewer rows is often worse than one model
    /// fitted on all of them.
    mutating func blend(_ choice: inout Choice, completed: [TrialResult], x: FeatureMatrix) throws {
        guard let best = choice.best else { return }
        let fullRefit = settings.refitFull ? fullRefitScale : 0
        let writes = choice.writeSeconds * 2
        // How a fold's fit time turns into a refit's, measured on the best trial: more rows, but all the
        // cores (folds are often fitted two at a time); with a 20% margin.
        let scale = min(3, max(0.5, choice.refitSeconds / max(best.fitSeconds, 1e-3))) * 1.2
        var cost: [Int: Double] = [:]
        for trial in completed {
            let searchRefit = trial.id == best.id ? choice.refitSeconds : trial.fitSeconds * scale
            cost[trial.id] = (trial.id == best.id ? 0 : searchRefit) + searchRefit * fullRefit + writes
        }
        var (picks, replayed, seconds): ([Int]?, Set<Int>?, Double) = (nil, nil, .infinity)
        switch budget.ensemblePlan(refitFull: settings.refitFull) {
        case .none: return
        case .picks(let recorded): picks = recorded
        case .among(let members): replayed = members
        case .select(let left): seconds = left
        }
        let found = Search.selectEnsemble(completed, outOfFold: outOfFold, truth: data.searchY, metric: data.metric, task: data.task.kind,
                                          cost: cost, budget: seconds, allowed: replayed, picks: picks)
        // Under a clock, the blend (or none) is recorded as picked: the budget can steer selection onto
        // another path than a replay without it would take, even when no better blend was kept out.
        if budget.isClocked {
            decisions.ensemblePicks = found.flatMap { $0.counts.count > 1 ? $0.picks : nil } ?? []
        }
        guard let selection = found else { return }
        if selection.limited, replayed == nil {
            if selection.counts.count > 1 { decisions.ensembleMembers = selection.counts.keys.sorted() }
            warnings.append(selection.counts.count > 1
                ? "a larger ensemble scored better out of fold, but only \(selection.counts.count) members could be refitted in the time left"
                : "an ensemble scored better out of fold, but there was no time left to refit it; shipping the best single model")
        }
        guard selection.counts.count > 1 else {
            if selection.limited { decisions.ensembleSkipped = true }
            return
        }
        let members = selection.counts.keys.sorted()
        let total = Double(selection.counts.values.reduce(0, +))
        let weights = members.map { Double(selection.counts[$0]!) / total }
        let trialsByID = members.map { id in completed.first { $0.id == id }! }
        let fitted = try trialsByID.map { trial in trial.id == best.id ? (choice.model, choice.refitSeconds) : try Search.timed { try fit(trial, x) } }
        choice.memberSeconds = fitted.map(\.1)
        choice.shipped = zip(trialsByID, weights).map { (Search.refitLearner($0), $1) }
        choice.model = .ensemble(try EnsembleModel(task: data.task.kind, outputs: evaluator.outputs, members: fitted.map(\.0), weights: weights))
        choice.ensemble = SearchReport.EnsembleSummary(members: members, weights: weights, outOfFoldScore: selection.score,
                                                       bestSingleOutOfFoldScore: selection.bestSingleScore)
    }

    /// Fits of one boosting configuration with row or column sampling averaged per member.
    static let seedBags = 3

    /// Refits every boosting member that samples rows or columns with two more seeds and averages the three
    /// (in margin space, so explanations stay additive): each fit draws other rows and columns, and their
    /// mean has less variance than any one of them, as AutoGluon's bagged models do. It triples those
    /// members' fit and prediction cost, so it is done only when their refits (with `refitFull`, on all rows
    /// too) fit the time left.
    mutating func bag(_ choice: inout Choice, x: FeatureMatrix) throws {
        let sampled = Set(choice.shipped.indices.filter { i in
            choice.shipped[i].learner.family.benefitsFromSeedBagging(choice.shipped[i].learner)
        })
        guard !sampled.isEmpty else { return }
        // One member per shipped learner; a lone boosting model on a linear base is an ensemble too, but one member.
        let (members, intercepts): ([FittedModel], [Double]?) = if choice.shipped.count > 1, case .ensemble(let e) = choice.model {
            (e.members, e.intercepts)
        } else {
            ([choice.model], nil)
        }
        let extra = Double(Self.seedBags - 1)
        let fullRefit = settings.refitFull ? fullRefitScale : 0
        // The extra fits, on the search rows and (with refitFull) on all rows, and writing them; then the
        // refit on all rows and the final write of the model as it is now, which must still fit after them.
        let writes = sampled.reduce(0) { $0 + choice.writeEstimate(members[$1]) } * extra
        let cost = sampled.reduce(0) { $0 + choice.memberSeconds[$1] } * extra * (1 + fullRefit) + writes
            + choice.refitSeconds * fullRefit + choice.writeEstimate(choice.model)
        guard budget.allows(.seedBag, cost: cost) else { return }
        var shipped: [(learner: Learner, weight: Double)] = []
        var fitted: [FittedModel] = []
        var seconds: [Double] = []
        for (i, member) in choice.shipped.enumerated() {
            guard sampled.contains(i) else {
                shipped.append(member)
                fitted.append(members[i])
                seconds.append(choice.memberSeconds[i])
                continue
            }
            for (bag, seeded) in SearchSpace.seedBag(member.learner, seeds: settings.seeds.substream("seed-bag", index: i)).enumerated() {
                shipped.append((seeded, member.weight / Double(Self.seedBags)))
                let (model, took) = bag == 0 ? (members[i], choice.memberSeconds[i])
                    : try Search.timed { try seeded.fit(x, target: data.searchY, weights: data.searchWeights, deadline: budget.finalDeadline) }
                fitted.append(model)
                seconds.append(took)
            }
        }
        // A bag the deadline cut short would ship a lesser model than the one chosen: keep that one.
        if budget.isPastFinal { return }
        choice.memberSeconds = seconds
        choice.shipped = shipped
        choice.model = .ensemble(try EnsembleModel(task: data.task.kind, outputs: evaluator.outputs, members: fitted, weights: shipped.map(\.weight),
                                                   intercepts: intercepts))
        decisions.seedBagged = true
    }

    /// Replaces the choice by a stacked second layer over the five best trials when the stack's own
    /// cross-validated out-of-fold score beats the current choice's on the same rows, and its refit fits the
    /// time left. Binary and regression tasks (a multiclass stack would need a weight per class and member).
    mutating func stack(_ choice: inout Choice, completed: [TrialResult], x: FeatureMatrix) throws {
        guard data.task.kind != .multiclass else {
            warnings.append("stacking is for binary and regression tasks; kept the \(choice.ensemble == nil ? "best model" : "blend")")
            return
        }
        let top = completed.sorted { data.metric.higherIsBetter ? $0.mean > $1.mean : $0.mean < $1.mean }.filter { outOfFold[$0.id] != nil }.prefix(5)
        guard top.count >= 2, let current = outOfFoldMargins(choice) else { return }
        let columns = top.map { outOfFold[$0.id]! }
        // Rows every member scored out of fold (with one validation split, only its validation rows).
        let rows = (0..<data.searchY.values.count).filter { row in current[row].isFinite && columns.allSatisfy { $0[row].isFinite } }
        guard rows.count >= 100 else { return }
        let truth = rows.map { data.searchY.values[$0] }
        let margins = columns.map { column in rows.map { column[$0] } }
        let binary = data.task.kind == .binary
        let stacked = try Stacking.crossValidatedMargins(margins, truth: truth, binary: binary, seed: settings.seeds.seed("stacking.folds"))
        let score = try data.metric.evaluate(truth: truth, predictions: ScoreLink.apply(stacked, task: data.task.kind, outputs: 1), classCount: data.y.classCount)
        let currentScore = try data.metric.evaluate(truth: truth, predictions: ScoreLink.apply(rows.map { current[$0] }, task: data.task.kind, outputs: 1),
                                               classCount: data.y.classCount)
        guard data.metric.higherIsBetter ? score > currentScore : score < currentScore else {
            warnings.append("a stacked second layer scored \(Search.format(score)) out of fold against \(Search.format(currentScore)) for the current choice; not stacked")
            return
        }
        let layer = Stacking.fit(margins, truth: truth, binary: binary)
        let kept = top.indices.filter { layer.weights[$0 - top.startIndex] > 0 }
        guard !kept.isEmpty else { return }
        let members = kept.map { top[$0] }
        let cost = members.map(\.fitSeconds).reduce(0, +) * 1.5 + choice.writeSeconds * Double(members.count) * 2
        if !budget.allows(.stack, cost: cost) {
            warnings.append("a stacked second layer scored better out of fold, but there was no time left to refit its members")
            decisions.stackSkipped = true
            return
        }
        let weights = kept.map { layer.weights[$0 - top.startIndex] }
        let bestID = choice.ensemble == nil ? choice.best?.id : nil
        let fitted = try members.map { trial in trial.id == bestID ? (choice.model, choice.refitSeconds) : try Search.timed { try fit(trial, x) } }
        choice.memberSeconds = fitted.map(\.1)
        choice.shipped = zip(members, weights).map { (Search.refitLearner($0), $1) }
        choice.model = .ensemble(try EnsembleModel(task: data.task.kind, outputs: 1, members: fitted.map(\.0), weights: weights, intercepts: [layer.intercept]))
        choice.ensemble = SearchReport.EnsembleSummary(members: members.map(\.id), weights: weights, outOfFoldScore: score,
                                                       bestSingleOutOfFoldScore: currentScore, intercepts: [layer.intercept])
    }

    /// Falls back down the leaderboard until a model scores one row within `limit` milliseconds.
    mutating func keepWithin(_ limit: Double, _ choice: inout Choice, completed: [TrialResult], x: FeatureMatrix) throws {
        var candidates = completed.sorted { data.metric.higherIsBetter ? $0.mean > $1.mean : $0.mean < $1.mean }.filter { $0.id != choice.best?.id }
        var latency = try Search.singleRowMilliseconds(choice.model, pipeline: choice.pipeline, frame: data.searchFrame)
        while latency > limit, !candidates.isEmpty {
            let next = candidates.removeFirst()
            warnings.append("trial \(choice.best?.id ?? 0) scores one row in \(Search.format(latency)) ms, over --max-predict-ms \(limit); trying trial \(next.id)")
            choice.best = next
            let (model, seconds) = try Search.timed { try fit(next, x) }
            (choice.model, choice.memberSeconds) = (model, [seconds])
            choice.shipped = [(Search.refitLearner(next), 1)]
            latency = try Search.singleRowMilliseconds(choice.model, pipeline: choice.pipeline, frame: data.searchFrame)
        }
        if latency > limit { warnings.append("no evaluated model scores one row within \(limit) ms (best: \(Search.format(latency)) ms)") }
    }
}
