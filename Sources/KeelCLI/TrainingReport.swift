import Foundation
import KeelData
import KeelExplain
import KeelLifecycle
import KeelSearch

/// The training report `keel train --report DIR` writes: `report.md` for people and `report.json` for
/// machines, with the data profile, leaderboard, holdout result, chosen model, feature importance, the
/// overrides the user gave, the seed and the time used.
struct TrainingReport: Encodable {
    var data: DataProfile
    var search: SearchReport
    var overrides: [String]
    var modelFile: String
    var secondsUsed: Double

    func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try AtomicFile.write(Array(try JSONOutput.encode(self)) + [0x0A], to: folder + "/report.json")
        try AtomicFile.write(markdown(), to: folder + "/report.md")
    }

    func markdown() -> String {
        let metric = search.metric.rawValue
        var md = ["# Keel training report", ""]
        md.append("Data `\(data.file)`: \(data.rows) rows × \(data.columns) columns, fingerprint `\(data.fingerprint)`.")
        if let target = data.target, let task = data.task { md.append("Target `\(target)`: \(task.kind.rawValue)\(task.positiveClass.map { ", positive class `\($0)`" } ?? "").") }
        md += ["", "## Validation", "", "\(search.validation). \(search.holdoutRows) rows were held out before the search and scored once, at the end."]
        if search.droppedRows > 0 { md.append("\(search.droppedRows) rows with a missing target were dropped.") }
        md += ["", "## Leaderboard", "", "| rank | trial | learner | settings | cv \(metric) | ± | fit per fold | predict per 1,000 rows |", "|---:|---:|---|---|---:|---:|---:|---:|"]
        for (rank, trial) in search.leaderboard.enumerated() {
            md.append("| \(rank + 1) | \(trial.id) | \(trial.family) | \(trial.summary) | \(Format.fixed(trial.mean, 4)) | \(trial.foldScores.count > 1 ? Format.fixed(trial.std, 4) : "one split") | \(Format.fixed(trial.fitSeconds, 2)) s | \(Format.fixed(trial.predictMillisecondsPer1000, 2)) ms |")
        }
        if let unranked = search.unrankedSummary { md.append("\n\(unranked.prefix(1).uppercased() + unranked.dropFirst()).") }
        if let screen = search.columnScreenSummary {
            md += ["", "## Column screen", "",
                   "High-cardinality categorical columns were each cross-validated with a probe configuration, with and without the column, and dropped when the probe scored better without: \(screen)."]
        }
        if let screen = search.valueScreenSummary {
            md += ["", "## Value screen", "",
                   "Categorical columns whose levels are numbers can also reach the trees as their values, which lets a tree cut between neighbouring codes; a probe configuration was cross-validated with and without them: \(screen)."]
        }
        md += ["", "## Chosen model", ""]
        if let ensemble = search.ensemble {
            md.append("An ensemble in raw-margin space: " + zip(ensemble.members, ensemble.weights).map { "\(Format.fixed($1, 2)) × trial \($0)" }.joined(separator: " + ")
                      + ". Out of fold it scored \(Format.fixed(ensemble.outOfFoldScore, 4)) against \(Format.fixed(ensemble.bestSingleOutOfFoldScore, 4)) for the best single model (selected on those rows, so optimistic; the holdout below is not).")
        } else if let best = search.trials.first(where: { $0.id == search.bestTrial }) {
            md.append("Trial \(best.id): \(best.family) (\(best.summary)).")
        }
        if let bags = search.seedBags {
            md.append("Boosting members that sample rows or columns are each the average of \(bags) fits with different seeds (bagging lowers their variance).")
        }
        md.append("Refitted on the \(search.searchRows) search rows and saved to `\(modelFile)`.")
        if let calibration = search.calibration {
            md += ["", "## Probabilities and decisions", "",
                   "Calibration chosen by 5-fold cross-validated log loss on the out-of-fold margins (kept only when it lowers the log loss by more than 0.2%): **\(calibration.method)**. "
                   + calibration.logLoss.sorted { $0.key < $1.key }.map { "\($0.key): \(Format.fixed($0.value, 4))" }.joined(separator: ", ") + "."]
            if search.task == .binary {
                md += ["", "Decision threshold for the positive class: **\(Format.fixed(calibration.threshold, 3))** (\(calibration.thresholdReason))."]
            }
        }
        md += ["", "## Holdout result", "", "| | \(metric) |", "|---|---:|",
               "| cross-validation | \(Format.fixed(search.crossValidatedScore, 4)) ± \(Format.fixed(search.crossValidatedStd, 4)) |",
               "| holdout (never seen by the search) | \(Format.fixed(search.holdoutScore, 4)) |",
               "| gap (positive: holdout worse) | \(Format.fixed(search.gap, 4)) |"]
        if let baseline = search.baseline {
            md += ["| baseline on the holdout (\(baseline.description)) | \(Format.fixed(baseline.holdoutScore, 4)) |"]
        }
        if !search.warnings.isEmpty { md += [""] + search.warnings.map { "- Warning: \($0)" } }
        if let leftOut = search.leftOut, !leftOut.isEmpty {
            md += ["", "## Columns left out", ""] + leftOut.map { "- `\($0.column)`: \($0.reason) (`\($0.keep)` keeps it)" }
        }
        if !search.importance.isEmpty {
            md += ["", "## Feature importance", "", "Permutation importance on the holdout: how much \(metric) worsens when the column is shuffled (3 repeats).", "",
                   "| column | importance | ± |", "|---|---:|---:|"]
            md += search.importance.map { "| \($0.column) | \(Format.fixed($0.importance, 4)) | \(Format.fixed($0.std, 4)) |" }
        }
        if !search.attributionImportance.isEmpty {
            md += ["", "## Attributions", "", "Mean |Shapley value| of each column in the shipped model's margin (log-odds or target units) on the holdout's first rows; `keel explain` gives them per row.", "",
                   "| column | mean \\|SHAP\\| |", "|---|---:|"]
            md += search.attributionImportance.map { "| \($0.column) | \(Format.fixed($0.meanAbsolute, 4)) |" }
        }
        md += ["", "## Settings", ""]
        md.append("- Seed \(search.seed); \(search.budgetSeconds.map { "time budget \(Int($0.rounded())) s" } ?? "fixed number of trials (\(search.trials.count))"); \(Format.fixed(secondsUsed, 1)) s used.")
        md.append(overrides.isEmpty ? "- No overrides: every inference and default was used." : "- Overrides: " + overrides.map { "`\($0)`" }.joined(separator: ", ") + ".")
        return md.joined(separator: "\n") + "\n"
    }
}
