import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry

/// `keel predict MODEL DATA`: batch scoring to CSV, in input row order, in bounded memory.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score a CSV file with a saved model.",
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

    enum OnError: String, ExpressibleByArgument, CaseIterable {
        case fail, skip
    }

    @Argument(help: "A model file from `keel train`, or a registered model: NAME, NAME@VERSION or NAME@production.")
    var model: String

    @Argument(help: "A CSV file (optionally .gz) or a Parquet file to score.")
    var file: String

    @Option(help: "Where to write the predictions: CSV, or Parquet when the name ends in .parquet (snappy, one row group per batch).")
    var out: String?

    @Option(help: "What to do with a row holding a value of the wrong kind: fail (default) or skip.")
    var onError: OnError = .fail

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
        let options = try CSVOptions.scoring(trained, reading: reading)
        let parquetOut = out.map { $0.lowercased().hasSuffix(".parquet") } ?? false
        let sink = parquetOut ? nil : try out.map(AtomicFileWriter.init(path:))
        var parquet: ParquetWriter?
        var rejects: AtomicFileWriter?
        let rejectPath = rejectFile ?? "\(out ?? file).rejects.csv"
        let classes = trained.schema.task?.classes ?? []
        let isClassifier = trained.schema.task?.kind != .regression
        var ids: [String] = []
        var scored = 0
        var rejected = 0
        let expectations = InputExpectations(trained)
        var tally = InputWarning.Tally()
        try CSVReader.readBatches(path: file, options: options, rows: batchRows) { batch in
            var frame = batch.frame
            let check = try trained.checkInput(frame)
            if batch.firstRow == 0 {
                ids = trained.schema.columns(withRole: .id).map(\.name).filter { frame[$0] != nil }
                if !check.ignoredColumns.isEmpty {
                    Terminal.progress("note: ignoring \(check.ignoredColumns.count) column(s) the model does not use: \(check.ignoredColumns.joined(separator: ", "))")
                }
                try options.noteUnreadColumns(of: file)
                var header = ids + ["prediction"]
                if isClassifier { header += classes.map { "proba_\($0)" } }
                if warningsColumn { header.append("warnings") }
                if parquetOut, let out {
                    parquet = try ParquetWriter(path: out, columns: Self.parquetColumns(header, ids: ids.count, regression: !isClassifier))
                } else {
                    try emit(CSVLine.join(header), to: sink)
                }
            }
            if let first = check.invalidCells.first {
                guard onError == .skip else {
                    let location = SourceLocation(file: file, line: batch.lines[first.row],
                                                  column: (frame.index(of: first.column) ?? 0) + 1, columnName: first.column)
                    throw DataError.invalidValue(location, "'\(first.value)' is not \(Self.describe(first.expected)) (use --on-error skip to set such rows aside)")
                }
                if rejects == nil {
                    rejects = try AtomicFileWriter(path: rejectPath)
                    try rejects?.append(CSVLine.join(["line", "column", "value", "error"]) + "\n")
                }
                var bad = Set<Int>()
                for cell in check.invalidCells where bad.insert(cell.row).inserted {
                    try rejects?.append(CSVLine.join([String(batch.lines[cell.row]), cell.column, cell.value, "not \(Self.describe(cell.expected))"]) + "\n")
                }
                let keep = (0..<frame.rowCount).filter { !bad.contains($0) }
                frame = frame.selecting(rows: keep)
                rejected += bad.count
            }
            guard frame.rowCount > 0 else { return }
            let predictions = try trained.predict(frame)
            let warnings = expectations.warnings(frame)
            tally.add(warnings)
            scored += predictions.count
            if let parquet {
                var columns: [ParquetWriter.Values] = ids.map { id in .strings((0..<frame.rowCount).map { frame[id]!.displayValue(at: $0) }) }
                columns.append(isClassifier ? .strings(predictions.map(\.label)) : .doubles(predictions.map { $0.value ?? Double($0.label) }))
                if isClassifier {
                    for k in classes.indices { columns.append(.doubles(predictions.map { $0.probabilities.indices.contains(k) ? $0.probabilities[k] : nil })) }
                }
                if warningsColumn { columns.append(.strings(warnings.map { $0.map(\.compact).joined(separator: "; ") })) }
                try parquet.writeRowGroup(columns)
                return
            }
            var text = ""
            text.reserveCapacity(frame.rowCount * 48)
            for (row, prediction) in predictions.enumerated() {
                var fields = ids.map { frame[$0]!.displayValue(at: row) ?? "" }
                fields.append(prediction.label)
                if isClassifier { fields += prediction.probabilities.map { String(format: "%.6g", $0) } }
                if warningsColumn { fields.append(warnings[row].map(\.compact).joined(separator: "; ")) }
                text += CSVLine.join(fields)
                text += "\n"
            }
            try emit(text, to: sink, newline: false)
        }
        if parquetOut, let out {
            // No batch at all: the file still has its (id-less) columns.
            if parquet == nil {
                var header = ["prediction"] + (isClassifier ? classes.map { "proba_\($0)" } : [])
                if warningsColumn { header.append("warnings") }
                parquet = try ParquetWriter(path: out, columns: Self.parquetColumns(header, ids: 0, regression: !isClassifier))
            }
            try parquet?.commit()
            Terminal.progress("wrote \(scored) predictions to \(out)")
        }
        try rejects?.commit()
        if let sink {
            try sink.commit()
            Terminal.progress("wrote \(scored) predictions to \(sink.path)")
        }
        if rejected > 0 { Terminal.progress("set aside \(rejected) row(s) with invalid values in \(rejectPath)") }
        for line in tally.lines {
            Terminal.progress("warning: \(line)\(warningsColumn ? "" : " (--warnings-column marks the rows)")")
        }
    }

    /// The Parquet columns for `header`: ids and labels and warnings are strings, the regression value and
    /// the probabilities doubles.
    static func parquetColumns(_ header: [String], ids: Int, regression: Bool) -> [ParquetWriter.Column] {
        header.enumerated().map { i, name in
            let isDouble = i > ids ? name != "warnings" : (i == ids && regression)
            return ParquetWriter.Column(name: name, type: isDouble ? .double : .string)
        }
    }

    private func emit(_ text: String, to sink: AtomicFileWriter?, newline: Bool = true) throws {
        if let sink {
            try sink.append(newline ? text + "\n" : text)
        } else {
            print(text, terminator: newline ? "\n" : "")
        }
    }

    static func describe(_ kind: ColumnKind) -> String {
        switch kind {
        case .numeric: "a number"
        case .datetime: "a date"
        case .boolean: "true or false"
        case .categorical, .text: "text"
        }
    }
}

/// One CSV line from fields, quoting those that need it (RFC 4180).
enum CSVLine {
    static func join(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",")
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
