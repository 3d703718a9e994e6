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

    @OptionGroup var keys: ArtifactReadOptions

    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if batchRows < 1 { throw ValidationError("--batch-rows must be at least 1") }
        if onError == .skip, out == nil, rejectFile == nil {
            throw ValidationError("--on-error skip needs --out or --reject-file, to know where the rejected rows go")
        }
    }

    func run() async throws {
        let trained = try Artifact.read(from: try registry.modelPath(model), options: try keys.readOptions()).model
        // Read exactly as training read its file, so every value is spelled the same way.
        let scoring = BatchScoring(model: trained, options: try CSVOptions.scoring(trained, reading: reading), file: file, out: out,
                                   onError: onError, rejectPath: rejectFile, batchRows: batchRows, warningsColumn: warningsColumn)
        let summary = try scoring.run(lines: { print($0, terminator: "") }, note: { Terminal.progress($0) })
        if let out { Terminal.progress("wrote \(summary.scored) predictions to \(out)") }
        if summary.rejected > 0 { Terminal.progress("set aside \(summary.rejected) row(s) with invalid values in \(scoring.rejectPath)") }
        for line in summary.warnings {
            Terminal.progress("warning: \(line)\(warningsColumn ? "" : " (--warnings-column marks the rows)")")
        }
    }
}

extension BatchScoring.OnError: ExpressibleByArgument {}
