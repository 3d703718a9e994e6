import KeelData
import KeelLearn

extension SearchRun {
    /// Drops the high-cardinality categorical columns a probe cross-validates better without (see
    /// `ColumnScreen`), before the first trial, so every trial and the shipped pipeline see the same
    /// columns. Columns are tried one at a time, most levels first; each verdict is taken against the probe
    /// with the columns dropped so far. A replay applies the recorded verdicts instead of probing.
    mutating func screenColumns(progress: (SearchEvent) -> Void) throws {
        guard settings.screenColumns else { return }
        if let replay = settings.replay {
            // Identifiers the recorded probe kept as features become features again, before anything else.
            if let verdicts = replay.identifierScreen {
                identifierScreen = verdicts
                let kept = verdicts.filter { !$0.dropped }.map(\.column)
                if !kept.isEmpty { try adopt(kept, folds: try folds(adding: kept)) }
            }
            // Runs recorded before the screen existed have none to apply.
            guard let recorded = replay.columnScreen else { return }
            columnScreen = recorded
            let dropped = recorded.filter(\.dropped).map(\.column)
            if !dropped.isEmpty { try apply(dropped, folds: try folds(dropping: dropped)) }
            return
        }
        let identifiers = ColumnScreen.identifierCandidates(schema, keep: settings.keepColumns)
        let candidates = ColumnScreen.candidates(searchFrame, schema: schema, keep: settings.keepColumns,
                                                 encodingAbove: PipelineOptions().targetEncodingAbove)
        guard !candidates.isEmpty || !identifiers.isEmpty, let probe = probeCandidate() else { return }
        // Up to three sets of folds live at once: the search's, the best without columns so far, the next probe's.
        guard memory.folds * 3 <= memory.budget / 2 else {
            warnings.append("the column screen was skipped: three copies of the folds would take over half of the memory budget")
            return
        }
        let deadline = budget.screenDeadline(share: Budget.columnScreenShare, from: budget.started)
        guard var current = probeScores(probe, folds: evaluator.folds, deadline: deadline) else {
            warnings.append("the column screen found no time for its probe; every column was kept")
            return
        }
        // Inferred identifiers first: one stays out unless the probe scores better with it as a feature, on
        // average and on more than two folds in three (a predictive number named like an id, a counter that
        // follows a trend).
        var added: [String] = []
        for column in identifiers {
            let folds = try folds(adding: added + [column])
            guard let with = probeScores(probe, folds: folds, deadline: deadline) else {
                warnings.append("the identifier screen ran out of its share of the budget; '\(column)' stayed out of the model")
                break
            }
            var verdict = ColumnScreen(column: column, levels: searchFrame[column].map { ColumnStatistics($0).distinct } ?? 0,
                                       with: with, without: current, metric: metric)
            // Signal, not noise: better on average, on most folds (a counter or a random code wins a few
            // folds by chance), and by more than twice the standard error of the paired fold gains (a
            // random code still wins most folds by a hair about one time in six).
            verdict.dropped = !(metric.error(with.mean) < metric.error(current.mean) && verdict.foldsBetterWithout * 3 < verdict.folds
                                && Self.gainIsBeyondNoise(with: with.foldScores, without: current.foldScores, metric: metric))
            identifierScreen.append(verdict)
            progress(.plan("identifier screen: " + verdict.identifierSummary(metric)))
            if !verdict.dropped {
                added.append(column)
                current = with
                try adopt([column], folds: folds)
            }
        }
        var dropped: [String] = []
        var kept = evaluator.folds
        for (column, levels) in candidates {
            // Never the last feature: a model needs one.
            guard schema.columns(withRole: .feature).count - dropped.count > 1 else { break }
            let folds = try folds(dropping: dropped + [column])
            guard let without = probeScores(probe, folds: folds, deadline: deadline) else {
                warnings.append("the column screen ran out of its share of the budget after \(columnScreen.count) of \(candidates.count) columns; the others were kept")
                break
            }
            let verdict = ColumnScreen(column: column, levels: levels, with: current, without: without, metric: metric)
            columnScreen.append(verdict)
            progress(.plan("column screen: " + verdict.summary(metric)))
            if verdict.dropped {
                dropped.append(column)
                current = without
                kept = folds
            }
        }
        if !dropped.isEmpty { try apply(dropped, folds: kept) }
    }

    /// Whether the probe's gain with a column, fold by fold on the same folds, is more than twice its
    /// standard error: a paired comparison, so folds that are hard for both do not hide the difference.
    static func gainIsBeyondNoise(with: [Double], without: [Double], metric: Metric) -> Bool {
        let gains = zip(with, without).map { metric.error($1) - metric.error($0) }
        guard gains.count >= 2 else { return false }
        let mean = gains.reduce(0, +) / Double(gains.count)
        let variance = gains.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gains.count - 1)
        return mean > 2 * (variance / Double(gains.count)).squareRoot()
    }

    /// The portfolio's first configuration of a family that searches locally (the first of any family when
    /// none does): cheap, early stopped, and the kind of model most searches end with.
    func probeCandidate() -> Portfolio.Candidate? {
        let portfolio = Portfolio.initial(shape: shape, families: families, seeds: settings.seeds)
        let usable = (portfolio.first + portfolio.later).compactMap { settings.fixed.apply($0).constrained(constraints) }
        return usable.first { $0.learner.family.searchesLocally } ?? usable.first
    }

    /// The probe's scores on `folds`, or nil when the deadline stopped it.
    func probeScores(_ probe: Portfolio.Candidate, folds: [FoldData], deadline: ContinuousClock.Instant?) -> TrialResult? {
        var probing = evaluator(for: folds)
        probing.parallelFolds = Parallel.coreCount > 1 && folds.count > 1 ? 2 : 1
        let result = probing.evaluate(probe.trial(0), deadline: deadline).result
        return result.status == .completed ? result : nil
    }

    func evaluator(for folds: [FoldData]) -> TrialEvaluator {
        TrialEvaluator(folds: folds, metric: metric, classCount: y.classCount, task: task.kind, searchRows: searchFrame.rowCount,
                       coverFolds: plan.coverFolds)
    }

    private func folds(dropping columns: [String]) throws -> [FoldData] {
        let screened = ColumnScreen.dropping(columns, from: schema)
        return try plan.folds.map { try FoldData(searchFrame, schema: screened, target: searchY, weights: searchWeights, fold: $0, options: pipelineOptions) }
    }

    /// Makes `columns` (inferred identifiers) features, on `folds` built with them.
    private mutating func adopt(_ columns: [String], folds: [FoldData]) throws {
        for (index, column) in schema.columns.enumerated() where columns.contains(column.name) { schema.columns[index].role = .feature }
        evaluator = evaluator(for: folds)
        constraints = try Search.monotoneConstraints(settings.monotone, schema: schema, featureNames: folds[0].featureNames)
        memory.folds = MemoryBudget.foldBytes(folds[0]) * folds.count
        warnings.append("kept as features although they look like identifiers (a probe scored better with them; --id COLUMN leaves one out): "
                        + columns.map { "'\($0)'" }.joined(separator: ", "))
    }

    private func folds(adding columns: [String]) throws -> [FoldData] {
        var with = schema
        for (index, column) in with.columns.enumerated() where columns.contains(column.name) { with.columns[index].role = .feature }
        return try plan.folds.map { try FoldData(searchFrame, schema: with, target: searchY, weights: searchWeights, fold: $0, options: pipelineOptions) }
    }

    private mutating func apply(_ dropped: [String], folds: [FoldData]) throws {
        schema = ColumnScreen.dropping(dropped, from: schema)
        evaluator = evaluator(for: folds)
        constraints = try Search.monotoneConstraints(settings.monotone, schema: schema, featureNames: folds[0].featureNames)
        memory.folds = MemoryBudget.foldBytes(folds[0]) * folds.count
        warnings.append("left out by the column screen (the probe scored better without them; --feature COLUMN keeps one): " + dropped.map { "'\($0)'" }.joined(separator: ", "))
    }
}
