import KeelLearn

extension SearchRun {
    /// Decides by probe whether categorical columns whose levels are numbers also reach the learners as their
    /// values (see `ValueScreen`), after the column screen and before the first trial, so every trial and the
    /// shipped pipeline see the same features. A replay applies the recorded verdict; a record from before
    /// the screen existed has none, and its runs had no values.
    mutating func screenValues(progress: (SearchEvent) -> Void) throws {
        // A replay applied its recorded verdict before its folds were built (`RecordedScreens`).
        guard budget.replay == nil else { return }
        let columns = LevelValues.columns(data.searchFrame, schema: schema)
        guard !columns.isEmpty, let probe = probeCandidate() else { return }
        // Two sets of folds live at once while the probes run.
        guard memory.folds * 2 <= memory.budget / 2 else {
            warnings.append("the value screen was skipped: two copies of the folds would take over half of the memory budget")
            return
        }
        let deadline = budget.screenDeadline(share: Budget.valueScreenShare, from: .now)
        let withValues = try foldsWithValues()
        guard let without = probeScores(probe, folds: evaluator.folds, deadline: deadline),
              let with = probeScores(probe, folds: withValues, deadline: deadline) else {
            warnings.append("the value screen found no time for its probes; categorical columns whose levels are numbers stay categories only")
            return
        }
        let verdict = ValueScreen(columns: columns, with: with, without: without, metric: data.metric)
        decisions.valueScreen = verdict
        progress(.plan("value screen: " + verdict.summary(data.metric)))
        if verdict.kept { try useValues(withValues) }
    }

    private func foldsWithValues() throws -> [FoldData] {
        var options = pipelineOptions
        options.levelValues = true
        return try data.folds(schema: schema, options: options)
    }

    private mutating func useValues(_ folds: [FoldData]) throws {
        pipelineOptions.levelValues = true
        evaluator = evaluator(for: folds)
        constraints = try Search.monotoneConstraints(settings.monotone, schema: schema, featureNames: folds[0].featureNames)
        memory.folds = MemoryBudget.foldBytes(folds[0]) * folds.count
    }
}
