import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelLifecycle
import KeelRegistry

/// `keel predict MODEL DATA`: batch scoring to CSV, in input row order, in bounded memory.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score a CSV or Parquet file with a saved model.",
        discussion: """
        Output columns: the schema's id columns, then `prediction` (the class label as spelled in training, or \
        the value), then for classifiers one `proba_<class>` column per class. Feature columns that had no missing \
        values in training are required; others may be absent (scored as missing). The target and columns the \
        model does not use are ignored, with a note. A value of the wrong kind stops the run naming its line and \
        column, unless `--on-error skip` sets such rows aside in a reject file. The file is read in batches, so \
        files larger than memory can be scored; the output appears only when complete. Without --out, the CSV \
        goes to standard output. An --out name ending in .parquet writes Parquet instead (snappy, one row group per \
        batch; strings dictionary-encoded, probabilities and regression values as doubles, missing ids as nulls).
        """
    )

    @Argument(help: "A model file from `keel train`, or a registered model: NAME, NAME@VERSION or NAME@production.")
    var model: String

    @Argument(help: "A CSV file (optionally .gz) or a Parquet file to score.")
    var file: String

    @Option(help: "Where to write the predictions: CSV, or Parquet when the name ends in .parquet (snappy, one row group per batch).")
    var out: String?

    @Option(help: "What to do with a row holding a value of the wrong kind: fail (default) or skip.")
    var onError: BatchScoring.OnError = .fail

    @Option(help: ArgumentHelp("Where `--on-error skip` writes the rows it set aside (default: <out>.rejects.csv).", valueName: "file"))
    var rejectFile: String?

    @Option(help: ArgumentHelp("Rows scored per batch.", valueName: "rows"))
    var batchRows = 65_536

    @OptionGroup var reading: ReadingOptions

    @Flag(help: "Add a `warnings` column: where a prediction rests on an input training never saw (unseen_level, out_of_range, unexpected_missing).")
    var warningsColumn = false

    @Option(help: ArgumentHelp("keel.yaml whose `humility:` section holds rules for this model: a `flags` column, overrides, refusals (a registered model uses models.NAME.humility from the registry's keel.yaml).", valueName: "file"))
    var config: String?

    @OptionGroup var keys: ArtifactReadOptions

    @OptionGroup var piiKey: PIIKeyOptions

    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if batchRows < 1 { throw ValidationError("--batch-rows must be at least 1") }
        if onError == .skip, out == nil, rejectFile == nil {
            throw ValidationError("--on-error skip needs --out or --reject-file, to know where the rejected rows go")
        }
    }

    func run() async throws {
        let path = try await registry.modelPath(model)
        let trained = try Artifact.read(from: path, options: try keys.readOptions()).model
        // Read exactly as training read its file, so every value is spelled the same way.
        var scoring = BatchScoring(model: trained, options: try CSVOptions.scoring(trained, reading: reading), file: file, out: out,
                                   onError: onError, rejectPath: rejectFile, batchRows: batchRows, warningsColumn: warningsColumn)
        scoring.privacy = try piiKey.scoringGuard(trained.schema)
        // Humility rules: --config's humility section, else the registry's for a registered model.
        let reference = path != model ? ModelReference(model) : nil
        var rules: [HumilityRule] = []
        var origin = ""
        if let config, let section = try ServeConfig.humility(config) {
            (rules, origin) = (section, "\(config) (humility:)")
        } else if let reference {
            let store = try await registry.open()
            (rules, origin) = (try await registry.configuration(store)?.humility(for: reference.name) ?? [], "\(store.location)/keel.yaml (models.\(reference.name).humility)")
        }
        if !rules.isEmpty {
            do {
                scoring.humility = try HumilityGuard(model: trained, rules: rules)
            } catch let error as HumilityError {
                throw DataError.invalidSchema("\(origin): \(error)")
            }
            for note in scoring.humility?.notes ?? [] { Terminal.progress("note: \(note)") }
            if let reference, rules.contains(where: { $0.action == .review }) {
                let store = try await registry.open()
                let version = try await store.resolve(reference)
                scoring.queue = { items in
                    _ = try await store.queueReview(items.map { item in
                        var item = item
                        (item.model, item.version) = (version.name, String(version.version))
                        return item
                    })
                }
            }
        }
        let summary = try await scoring.run(lines: { print($0, terminator: "") }, note: { Terminal.progress($0) })
        if let out { Terminal.progress("wrote \(summary.scored) predictions to \(out)") }
        if summary.rejected > 0 { Terminal.progress("set aside \(summary.rejected) row(s) with invalid values in \(scoring.rejectPath)") }
        if let humility = scoring.humility {
            for rule in humility.rules {
                let count = summary.flags[rule.name] ?? 0
                Terminal.progress("humility: rule \(rule.name) (\(rule.trigger.rawValue), \(rule.action.rawValue)) fired on \(count) of \(summary.scored) rows")
            }
            if summary.refused > 0 { Terminal.progress("humility: \(summary.refused) row(s) refused by an error rule have no prediction (the flags column names the rule)") }
            if summary.queued > 0 { Terminal.progress("humility: queued \(summary.queued) row(s) for review (keel review list)") }
            let unqueued = humility.rules.filter { $0.action == .review }.reduce(0) { $0 + (summary.flags[$1.name] ?? 0) } - summary.queued
            if unqueued > 0 { Terminal.progress("humility: \(unqueued) row(s) flagged for review were not queued: only a registered model (NAME@STAGE) has a registry to queue into") }
        }
        for line in summary.warnings {
            Terminal.progress("warning: \(line)\(warningsColumn ? "" : " (--warnings-column marks the rows)")")
        }
    }
}

extension BatchScoring.OnError: ExpressibleByArgument {}
