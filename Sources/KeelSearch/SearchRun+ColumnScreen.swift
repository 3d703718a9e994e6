import KeelData
import KeelLearn

extension SearchRun {
    /// Drops the high-cardinality categorical columns a probe cross-validates better without (see
    /// `ColumnScreen`), before the first trial, so every trial and the shipped pipeline see the same
    /// columns. Columns are tried one at a time, most levels first; each verdict is taken against the probe
    /// with the columns dropped so far. A replay applies the recorded verdicts instead of probing.
    mutating func screenColumns(progress: (SearchEvent) -> Void) throws {
        // A replay applied its recorded verdicts before its folds were built (`RecordedScreens`).
        guard settings.screenColumns, budget.replay == nil else { return }
        let identifiers = ColumnScreen.identifierCandidates(schema, keep: settings.keepColumns)
        let candidates = ColumnScreen.candidates(data.searchFrame, schema: schema, keep: settings.keepColumns,
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
        current = try screenIdentifiers(identifiers, probe: probe, current: current, deadline: deadline, progress: progress)
        var dropped: [String] = []
        var kept = evaluator.folds
        for (column, levels) in candidates {
            // Never the last feature: a model needs one.
            guard schema.columns(withRole: .feature).count - dropped.count > 1 else { break }
            let folds = try folds(dropping: dropped + [column])
            guard let without = probeScores(probe, folds: folds, deadline: deadline) else {
                warnings.append("the column screen ran out of its share of the budget after \(decisions.columnScreen.count) of \(candidates.count) columns; the others were kept")
                break
            }
            let verdict = ColumnScreen(column: column, levels: levels, with: current, without: without, metric: data.metric)
            decisions.columnScreen.append(verdict)
            progress(.plan("column screen: " + verdict.summary(data.metric)))
            if verdict.dropped {
                dropped.append(column)
                current = without
                kept = folds
            }
        }
        if !dropped.isEmpty { try apply(dropped, folds: kept) }
    }

    /// Inferred identifiers first: one stays out unless the probe scores better with it as a feature, on
    /// average and on more than two folds in three (a predictive number named like an id, a counter that
    /// follows a trend). Returns the probe's scores with the identifiers kept.
    private mutating func screenIdentifiers(_ identifiers: [String], probe: Portfolio.Candidate, current start: TrialResult,
                                            deadline: ContinuousClock.Instant?, progress: (SearchEvent) -> Void) throws -> TrialResult {
        var current = start
        var added: [String] = []
        for column in identifiers {
            let folds = try folds(adding: added + [column])
            guard let with = probeScores(probe, folds: folds, deadline: deadline) else {
                warnings.append("the identifier screen ran out of its share of the budget; '\(column)' stayed out of the model")
                break
            }
            var verdict = ColumnScreen(column: column, levels: data.searchFrame[column].map { ColumnStatistics($0).distinct } ?? 0,
                                       with: with, without: current, metric: data.metric)
            // Signal, not noise: better on average, on most folds (a counter or a random code wins a few
            // folds by chance), and by more than twice the standard error of the paired fold gains (a
            // random code still wins most folds by a hair about one time in six).
            verdict.dropped = !(data.metric.error(with.mean) < data.metric.error(current.mean) && verdict.foldsBetterWithout * 3 < verdict.folds
                                && Self.gainIsBeyondNoise(with: with.foldScores, without: current.foldScores, metric: data.metric))
            decisions.identifierScreen.append(verdict)
            progress(.plan("identifier screen: " + verdict.identifierSummary(data.metric)))
            if !verdict.dropped {
                added.append(column)
                current = with
                try adopt([column], folds: folds)
            }
        }
        return current
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
        TrialEvaluator(folds: folds, metric: data.metric, classCount: data.y.classCount, task: data.task.kind, searchRows: data.searchFrame.rowCount,
                       coverFolds: data.plan.coverFolds)
    }

    private func folds(dropping columns: [String]) throws -> [FoldData] {
        let screened = ColumnScreen.dropping(columns, from: schema)
        return try data.folds(schema: screened, options: pipelineOptions)
    }

    /// Makes `columns` (inferred identifiers) features, on `folds` built with them.
    private mutating func adopt(_ columns: [String], folds: [FoldData]) throws {
        for (index, column) in schema.columns.enumerated() where columns.contains(column.name) { schema.columns[index].role = .feature }
        evaluator = evaluator(for: folds)
        constraints = try Search.monotoneConstraints(settings.monotone, schema: schema, featureNames: folds[0].featureNames)
        memory.folds = MemoryBudget.foldBytes(folds[0]) * folds.count
        warnings.append(RecordedScreens.keptIdentifiers(columns))
    }

    private func folds(adding columns: [String]) throws -> [FoldData] {
        var with = schema
        for (index, column) in with.columns.enumerated() where columns.contains(column.name) { with.columns[index].role = .feature }
        return try data.folds(schema: with, options: pipelineOptions)
    }

    private mutating func apply(_ dropped: [String], folds: [FoldData]) throws {
        schema = ColumnScreen.dropping(dropped, from: schema)
        evaluator = evaluator(for: folds)
        constraints = try Search.monotoneConstraints(settings.monotone, schema: schema, featureNames: folds[0].featureNames)
        memory.folds = MemoryBudget.foldBytes(folds[0]) * folds.count
        warnings.append(RecordedScreens.leftOut(dropped))
    }
}
