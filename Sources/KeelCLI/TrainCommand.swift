import ArgumentParser
import Foundation
import KeelData
import KeelLearn
import KeelLifecycle
import KeelRegistry
import KeelSearch

/// `keel train DATA --target COL`: the time-budgeted search, its leaderboard and the saved model.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Search learners and hyperparameters within a time budget; save the best model.",
        discussion: """
        A holdout (20%) is cut first and never shown to the search. Trials are ranked by cross-validation; the \
        winner is refitted on the search rows and scored once on the holdout, and the report shows both scores \
        and the gap. With --trials N instead of a time budget, the same seed gives the same leaderboard and model.
        """
    )

    @Argument(help: "A CSV (optionally .gz) or Parquet file.")
    var file: String

    @OptionGroup var data: DataOptions

    @Option(help: "Time budget for the whole run, e.g. 30s, 5m (default 60s).")
    var time: DurationArgument?

    @Option(help: ArgumentHelp("A YAML (or JSON) file of overrides; flags take precedence.", valueName: "file"))
    var config: String?

    @Option(help: "Run exactly this many trials instead of a time budget (reproducible).")
    var trials: Int?

    @Option(help: "Metric to optimise: \(Metric.allCases.map(\.rawValue).joined(separator: ", ")) (default by task).")
    var metric: Metric?

    @Option(help: "Random seed (default 1).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Only these learner families (repeatable): \(SearchSettings.learnerFamilies.joined(separator: ", ")).", valueName: "family"))
    var learner: [String] = []

    @Option(help: ArgumentHelp("A numeric column the prediction must rise (+1) or fall (-1) with, as COLUMN=+1 (repeatable).", valueName: "column=±1"))
    var monotone: [String] = []

    @Option(help: ArgumentHelp("`balanced` gives every class the same total weight.", valueName: "mode"))
    var classWeight: String?

    @Option(help: ArgumentHelp("Choose a linear model or EBM when within this much of the best score.", valueName: "tolerance"))
    var preferInterpretable: Double?

    @Option(help: ArgumentHelp("The model must score one row within this many milliseconds (measured).", valueName: "ms"))
    var maxPredictMs: Double?

    @Option(help: ArgumentHelp("Binary tasks: the cost of a false positive and of a false negative; the decision threshold minimises their total.", valueName: "fp,fn"))
    var costs: String?

    @Flag(help: "Try a stacked second layer (a non-negative linear model over the best trials' margins), kept only if its own cross-validated score is better.")
    var stack = false

    @Option(help: ArgumentHelp("Memory the search may use, e.g. 4G or 512M (default: 70% of the machine's); folds shrink and trials that would not fit are left out.", valueName: "size"))
    var maxMemory: String?

    @Flag(help: "Keep every high-cardinality categorical column, even those a probe cross-validates better without (`--feature COLUMN` keeps one).")
    var noColumnScreen = false

    @Flag(help: "Exit with code 3 when the model does not beat the trivial baseline (class shares or the mean) on the holdout by more than the folds' spread; the model is still written.")
    var requireBetterThanBaseline = false

    @Flag(help: "Exit 0 although the shipped model is a fallback: a ridge model when no trial of the --learner families completed, or a refit the budget cut short (by default those exit with code 3; the model is written either way).")
    var allowFallback = false

    @Flag(help: "After scoring the holdout, refit the chosen model on all rows (the holdout score then describes the model before that refit).")
    var refitFull = false

    @Option(help: "Where to write the model.")
    var out: String = "model.keel"

    @Option(help: ArgumentHelp("Write report.md and report.json into this folder.", valueName: "dir"))
    var report: String?

    @Flag(help: "Print the report as one JSON document on standard output (progress and warnings stay on standard error; --quiet silences them).")
    var json = false

    @Flag(help: "No progress on standard error.")
    var quiet = false

    @OptionGroup var protection: ArtifactWriteOptions

    @Option(help: ArgumentHelp("Register the model under this name (default: the data file's name without extensions).", valueName: "name"))
    var name: String?

    @Flag(help: "Do not register the dataset, run and model in the registry.")
    var noRegistry = false

    @Flag(help: "Register the dataset without keeping a copy of its data (`keel runs reproduce` then needs the original file).")
    var noSnapshot = false

    @Option(help: ArgumentHelp("Who trains, for the audit log (default: the user name).", valueName: "name"))
    var by: String?

    @OptionGroup var registryOptions: RegistryOptions

    /// `FP,FN`: two non-negative costs, not both zero.
    static func parseCosts(_ text: String) throws -> (falsePositive: Double, falseNegative: Double) {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let fp = parts[0], let fn = parts[1], fp >= 0, fn >= 0, fp + fn > 0, fp.isFinite, fn.isFinite else {
            throw ValidationError("--costs takes two non-negative numbers FP,FN (the cost of a false positive and of a false negative), not '\(text)'")
        }
        return (fp, fn)
    }

    /// The data file's name without folders and extensions: the model's default name.
    static func stem(of path: String) -> String {
        var name = (path as NSString).lastPathComponent
        for suffix in [".gz", ".csv", ".tsv", ".txt", ".parquet", ".pq"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name
    }

    func validate() throws {
        guard data.target != nil || data.schema != nil else { throw ValidationError("train needs --target (or a schema file naming the target)") }
        if let trials, trials < 1 { throw ValidationError("--trials must be at least 1, not \(trials)") }
        if let time, time.seconds < 1 { throw ValidationError("--time must be at least 1s, not \(time)") }
        _ = try monotoneConstraints()
        if let classWeight, classWeight != "balanced" { throw ValidationError("--class-weight takes `balanced`, not '\(classWeight)'") }
        if let preferInterpretable, !(preferInterpretable >= 0) { throw ValidationError("--prefer-interpretable must not be negative") }
        if let maxPredictMs, !(maxPredictMs > 0) { throw ValidationError("--max-predict-ms must be positive") }
        if let costs { _ = try Self.parseCosts(costs) }
        if let maxMemory, RunSettings.bytes(maxMemory) == nil { throw ValidationError("--max-memory takes a size such as 4G or 512M, not '\(maxMemory)'") }
        if let unknown = learner.first(where: { !SearchSettings.learnerFamilies.contains($0) }) {
            throw ValidationError("unknown learner family '\(unknown)'; the families are: \(SearchSettings.learnerFamilies.joined(separator: ", "))")
        }
        if let name, !ModelReference.isValidName(name) {
            throw ValidationError("--name '\(name)' is not a valid model name: use letters, digits, '-', '_' and '.'")
        }
    }

    func run() async throws {
        // The budget is the command's wall time: it counts from the process's start.
        let started = ProcessStart.instant
        let file = try config.map(TrainConfig.read)
        var options = data
        options.merge(file)
        let loaded = try options.load(self.file, quiet: quiet, configPrivacy: file?.privacy ?? [:])
        let recorded = try runSettings(file, options: options, textColumns: loaded.inference.schema.textColumns ?? [])
        let profile = DataProfile(loaded)
        let modelName = name ?? Self.stem(of: self.file)
        var overrides = options.given
        if let config { overrides.append("--config \(config)") }
        overrides += recorded.overrides
        let stop = StopRequest()
        InterruptHandling.install(stop)
        let registration = noRegistry ? nil : Training.Registration(open: { [registryOptions] in try await registryOptions.open(create: true) },
                                                                   snapshot: !noSnapshot, actor: by ?? Registry.currentUser)
        let request = Training.Request(frame: loaded.frame, schema: loaded.schema, source: self.file, profileJSON: try JSONOutput.compact(profile),
                                       settings: recorded, overrides: overrides, name: modelName, out: out,
                                       writeOptions: try protection.writeOptions(name: modelName), registration: registration,
                                       started: started, stop: stop)
        let display = SearchProgress(metric: (recorded.metric ?? Metric.defaultFor(loaded.schema.task?.kind ?? .binary)).rawValue,
                                     budget: recorded.trials == nil ? max(1, recorded.timeBudget - (ContinuousClock.now - started).seconds) : nil)
        let result = try await Training.run(request) { event in
            if !quiet { display.handle(event) }
        }
        display.finish()
        let searchReport = result.report
        let registered = result.registered
        if let reason = result.notRegistered {
            Terminal.progress("warning: the model was not registered (\(reason)); it is in \(out) only")
        }
        let seconds = result.seconds
        if let report {
            try TrainingReport(data: profile, search: searchReport, overrides: overrides, modelFile: out, secondsUsed: seconds).write(to: report)
        }
        if json {
            print(try JSONOutput.string(searchReport))
        } else {
            print(Self.text(searchReport, out: out, seconds: seconds))
            if let registered {
                print("registered as \(registered.reference) (stage candidate) in \(registryOptions.folder); promote with `keel models promote \(registered.name) \(registered.version) --to production`")
            }
        }
        if !allowFallback, let fallback = searchReport.fallback {
            throw CheckFailed(message: "\(fallback); the model was written to \(out) for inspection (--allow-fallback accepts it)")
        }
        if !allowFallback, searchReport.replay.refitCutShort {
            throw CheckFailed(message: "the refit of the chosen model was cut short by the time budget, so the model written to \(out) is less than the one the search chose; give more --time (--allow-fallback accepts it)")
        }
        if requireBetterThanBaseline || file?.requireBetterThanBaseline == true, let baseline = searchReport.baseline, baseline.noBetter {
            throw CheckFailed(message: "the model is no better than the baseline (\(baseline.description)) on the holdout, and better than the baseline was required (--require-better-than-baseline); the model was written to \(out) for inspection")
        }
    }

    /// The flags and the config file merged (flags win) into the settings the run records.
    private func runSettings(_ file: TrainConfig?, options: DataOptions, textColumns: [String]) throws -> RunSettings {
        let budget: Double
        if let time { budget = time.seconds } else if let text = file?.time { budget = try Self.duration(text) } else { budget = 60 }
        let families = learner.isEmpty ? file?.learners : learner
        if let unknown = families?.first(where: { !SearchSettings.learnerFamilies.contains($0) }) {
            throw ValidationError("unknown learner family '\(unknown)'; the families are: \(SearchSettings.learnerFamilies.joined(separator: ", "))")
        }
        let weighting = classWeight ?? file?.classWeight
        if let weighting, weighting != "balanced" { throw ValidationError("class_weight takes `balanced`, not '\(weighting)'") }
        var costPair: [Double]?
        if let costs {
            let parsed = try Self.parseCosts(costs)
            costPair = [parsed.falsePositive, parsed.falseNegative]
        } else if let pair = file?.costs {
            guard pair.count == 2 else { throw ValidationError("costs in the config file takes [false_positive_cost, false_negative_cost]") }
            _ = try Self.parseCosts("\(pair[0]),\(pair[1])")
            costPair = pair
        }
        let fixed = file?.hyperparameters ?? [:]
        _ = try FixedHyperparameters(fixed)
        var memory = MemoryBudget.standard.bytes
        if let text = maxMemory ?? file?.maxMemory {
            guard let bytes = RunSettings.bytes(text) else { throw ValidationError("max_memory takes a size such as 4G or 512M, not '\(text)'") }
            memory = bytes
        }
        // A benchmark's switch, not a flag: turning rules off is for measuring them (bench/search_rules.sh).
        let rulesOff = try SearchRule.parse(ProcessInfo.processInfo.environment["KEEL_SEARCH_RULES_OFF"] ?? "").map(\.rawValue).sorted()
        var settings = RunSettings(
            timeBudget: budget, trials: trials ?? file?.trials, metric: metric ?? file?.metric, seed: seed ?? file?.seed ?? 1,
            learners: families.flatMap { $0.isEmpty ? nil : $0 }, monotone: (file?.monotone ?? [:]).merging(try monotoneConstraints()) { _, flag in flag },
            balanceClasses: weighting == "balanced", preferInterpretable: preferInterpretable ?? file?.preferInterpretable,
            maxPredictMs: maxPredictMs ?? file?.maxPredictMs, costs: costPair, refitFull: refitFull, hyperparameters: fixed,
            textColumns: textColumns, stack: stack || file?.stack == true, maxMemoryBytes: memory,
            columnScreen: !(noColumnScreen || file?.columnScreen == false), keepColumns: options.feature.sorted())
        settings.searchRulesOff = rulesOff.isEmpty ? nil : rulesOff
        return settings
    }

    private static func duration(_ text: String) throws -> Double {
        guard let seconds = DurationArgument.parse(text), seconds >= 1 else { throw ValidationError("time in the config file must be a duration such as 90s or 5m, not '\(text)'") }
        return seconds
    }

    private func monotoneConstraints() throws -> [String: Int] {
        var constraints: [String: Int] = [:]
        for entry in monotone {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let direction = Int(parts[1].replacingOccurrences(of: "+", with: "")), direction == 1 || direction == -1 else {
                throw ValidationError("--monotone takes COLUMN=+1 or COLUMN=-1, not '\(entry)'")
            }
            constraints[parts[0]] = direction
        }
        return constraints
    }

    static func text(_ report: SearchReport, out: String, seconds: Double) -> String {
        let metric = report.metric.rawValue
        var lines = ["leaderboard (\(metric), \(report.metric.higherIsBetter ? "higher" : "lower") is better; \(report.validation)):", ""]
        let rows = report.leaderboard.enumerated().map { rank, trial in
            [String(rank + 1), String(trial.id), trial.family, trial.summary, Format.score(trial.mean, std: trial.std, folds: trial.foldScores.count),
             Format.fixed(trial.fitSeconds, 2) + "s", Format.fixed(trial.predictMillisecondsPer1000, 2) + "ms"]
        }
        lines += TextTable.render(header: ["rank", "trial", "learner", "settings", "cv \(metric)", "fit/fold", "predict/1k rows"], rows: rows, rightAligned: [0, 1, 4, 5, 6])
        if let unranked = report.unrankedSummary { lines.append("(\(unranked))") }
        lines.append("")
        if let leftOut = report.leftOut, !leftOut.isEmpty {
            lines.append("left out of the model: " + leftOut.map(\.text).joined(separator: ", "))
        }
        if let screen = report.columnScreenSummary { lines.append("column screen: \(screen)") }
        if let screen = report.valueScreenSummary { lines.append("value screen: \(screen)") }
        let best = report.trials.first { $0.id == report.bestTrial }
        if let ensemble = report.ensemble {
            let members = zip(ensemble.members, ensemble.weights).map { id, weight in
                "\(Format.fixed(weight, 2)) × trial \(id) \(report.trials.first { $0.id == id }?.family ?? "")"
            }
            if let intercepts = ensemble.intercepts {
                lines.append("chosen: stacked second layer \(Format.fixed(intercepts[0], 3)) + \(members.joined(separator: " + ")) (margins), refitted on \(report.searchRows) search rows")
                lines.append("  out-of-fold \(metric) (the stack cross-validated on its own rows): stack \(Format.fixed(ensemble.outOfFoldScore, 4)) vs previous choice \(Format.fixed(ensemble.bestSingleOutOfFoldScore, 4))")
            } else {
                lines.append("chosen: ensemble of \(members.joined(separator: " + ")), refitted on \(report.searchRows) search rows")
            lines.append("  out-of-fold \(metric): ensemble \(Format.fixed(ensemble.outOfFoldScore, 4)) vs best single \(Format.fixed(ensemble.bestSingleOutOfFoldScore, 4)) (selected on these rows; the holdout below is the unbiased check)")
            }
        } else {
            lines.append("chosen: \(best.map { "trial \($0.id) \($0.family) (\($0.summary))" } ?? "baseline"), refitted on \(report.searchRows) search rows")
        }
        if let bags = report.seedBags {
            lines.append("  boosting members that sample rows or columns: each averaged over \(bags) seeds (bagging)")
        }
        if let calibration = report.calibration {
            let losses = calibration.logLoss.sorted { $0.key < $1.key }.map { "\($0.key) \(Format.fixed($0.value, 4))" }.joined(separator: ", ")
            let decision = report.task == .binary ? "; decision threshold \(Format.fixed(calibration.threshold, 3)) (\(calibration.thresholdReason))" : ""
            lines.append("calibration: \(calibration.method) (out-of-fold log loss: \(losses))\(decision)")
        }
        lines.append("holdout \(metric): \(Format.fixed(report.holdoutScore, 4)) on \(report.holdoutRows) rows the search never saw; cross-validation \(Format.fixed(report.crossValidatedScore, 4)) (gap \(Format.fixed(report.gap, 4)))")
        if let baseline = report.baseline {
            lines.append("baseline \(metric) on the same rows: \(Format.fixed(baseline.holdoutScore, 4)) (\(baseline.description))\(baseline.noBetter ? " — the model is no better" : "")")
        }
        if !report.importance.isEmpty {
            lines.append("most important columns (holdout permutation): " + report.importance.prefix(5).map { "\($0.column) \(Format.fixed($0.importance, 4))" }.joined(separator: ", "))
        }
        let leftOut = report.trials.filter { $0.message?.contains("--max-memory") == true }
        if !leftOut.isEmpty {
            lines.append("left out by the memory budget: " + leftOut.map { "trial \($0.id) (\($0.family))" }.joined(separator: ", ") + " — " + (leftOut[0].message ?? ""))
        }
        let size = MemoryBudget.megabytes
        lines.append("memory: budget \(size(report.memory.budget)); estimated use \(size(report.memory.estimatedPeak)) (folds \(size(report.memory.folds)), largest trial \(size(report.memory.largestTrial)))")
        for warning in report.warnings { lines.append("warning: \(warning)") }
        lines.append("model written to \(out) in \(Format.fixed(seconds, 1))s\(report.budgetSeconds.map { " (budget \(Int($0.rounded()))s)" } ?? "")")
        return lines.joined(separator: "\n")
    }
}

extension Metric: ExpressibleByArgument {}
