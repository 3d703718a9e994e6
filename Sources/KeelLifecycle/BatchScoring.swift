import Foundation
import KeelData
import KeelExplain
import KeelLearn
import KeelRegistry

/// Batch scoring of a data file in bounded memory, in input row order: `keel predict MODEL FILE`.
///
/// Output columns: the schema's id columns, then `prediction`, then for classifiers one `proba_<class>`
/// column per class, then (when asked) `warnings`. CSV goes to `out` or, without it, to `lines`; an `out`
/// ending in `.parquet` writes Parquet (one row group per batch). Files appear only when complete.
public struct BatchScoring {
    public enum OnError: String, Sendable, CaseIterable {
        /// A value of the wrong kind stops the run, naming its file, line and column.
        case fail
        /// Such rows are set aside in the reject file, with their line, column, value and the error.
        case skip
    }

    public var model: TrainedModel
    /// How to read the file: `CSVOptions.scoring`-style, as training read its own.
    public var options: CSVOptions
    public var file: String
    public var out: String?
    public var onError: OnError
    public var rejectPath: String
    public var batchRows: Int
    public var warningsColumn: Bool
    /// The model's humility rules: a `flags` column, overrides in place of the model's answer, rows an
    /// `error` rule refuses left without a prediction, rows a `review` rule fires on handed to `queue`.
    public var humility: HumilityGuard?
    /// Where rows for review go (a registry's queue); nil: they are flagged and counted, not queued. Called
    /// once, after the whole file has scored and before the outputs are committed, so a run that fails
    /// part-way queues nothing.
    public var queue: (([ReviewItem]) async throws -> Void)?
    /// The model's privacy rules, applied to every batch as it is read: nothing after them (the model, the
    /// review queue, the reject file, the output's id columns) sees a dropped column or a raw value.
    public var privacy: PrivacyGuard?

    public init(model: TrainedModel, options: CSVOptions, file: String, out: String?, onError: OnError = .fail, rejectPath: String? = nil,
                batchRows: Int = 65_536, warningsColumn: Bool = false) {
        (self.model, self.options, self.file, self.out, self.onError) = (model, options, file, out, onError)
        self.rejectPath = rejectPath ?? "\(out ?? file).rejects.csv"
        (self.batchRows, self.warningsColumn) = (batchRows, warningsColumn)
    }

    /// What a run did, for the caller to report.
    public struct Summary: Sendable {
        public var scored = 0
        public var rejected = 0
        /// Inputs training never saw, counted per kind, in words.
        public var warnings: [String] = []
        /// Humility flags per rule name, rows refused by an error rule, rows queued for review.
        public var flags: [String: Int] = [:]
        public var refused = 0
        public var queued = 0
    }

    /// Scores the file. `lines` receives the CSV text when there is no `out`; `note` receives what the run
    /// must say on its way (columns ignored or left unread).
    public func run(lines: (String) -> Void, note: (String) -> Void) async throws -> Summary {
        let trained = model
        let parquetOut = out.map { $0.lowercased().hasSuffix(".parquet") } ?? false
        let sink = parquetOut ? nil : try out.map(AtomicFileWriter.init(path:))
        var parquet: ParquetWriter?
        var rejects: AtomicFileWriter?
        let classes = trained.schema.task?.classes ?? []
        let isClassifier = trained.schema.task?.kind != .regression
        var ids: [String] = []
        var summary = Summary()
        var forReview: [ReviewItem] = []
        let expectations = InputExpectations(trained)
        var tally = InputWarning.Tally()
        // Rows queued for review are keyed by this run and their line, so scoring a file twice queues twice.
        let runID = "keel-predict \((file as NSString).lastPathComponent) \(UUID().uuidString.prefix(8).lowercased())"
        func emit(_ text: String) throws {
            if let sink { try sink.append(text) } else { lines(text) }
        }
        try CSVReader.readBatches(path: file, options: options, rows: batchRows) { batch in
            var frame = try privacy?.apply(batch.frame) ?? batch.frame
            var lines = batch.lines
            let check = try trained.predictor.checkInput(frame)
            if batch.firstRow == 0 {
                ids = trained.schema.columns(withRole: .id).map(\.name).filter { frame[$0] != nil }
                if !check.ignoredColumns.isEmpty {
                    note("note: ignoring \(check.ignoredColumns.count) column(s) the model does not use: \(check.ignoredColumns.joined(separator: ", "))")
                }
                if let unread = try options.unreadColumnsNote(of: file) { note(unread) }
                for line in privacy?.notes(for: batch.frame) ?? [] { note(line) }
                let header = ids + outputColumns(classes: classes, isClassifier: isClassifier)
                if parquetOut, let out {
                    parquet = try ParquetWriter(path: out, columns: Self.parquetColumns(header, ids: ids.count, regression: !isClassifier))
                } else {
                    try emit(CSVLine.join(header) + "\n")
                }
            }
            if let first = check.invalidCells.first {
                guard onError == .skip else {
                    let location = SourceLocation(file: file, line: batch.lines[first.row],
                                                  column: (batch.frame.index(of: first.column) ?? 0) + 1, columnName: first.column)
                    throw DataError.invalidValue(location, first.problem.message(value: first.value) + " (use --on-error skip to set such rows aside)")
                }
                if rejects == nil {
                    rejects = try AtomicFileWriter(path: rejectPath)
                    try rejects?.append(CSVLine.join(["line", "column", "value", "error"]) + "\n")
                }
                var bad = Set<Int>()
                for cell in check.invalidCells where bad.insert(cell.row).inserted {
                    // A value a privacy rule could not transform (a date that does not parse) is not written out.
                    let value = privacy?.operations[cell.column] == nil ? cell.value : "(withheld: privacy rule)"
                    try rejects?.append(CSVLine.join([String(batch.lines[cell.row]), cell.column, value, cell.problem.message]) + "\n")
                }
                let kept = (0..<frame.rowCount).filter { !bad.contains($0) }
                frame = frame.selecting(rows: kept)
                lines = kept.map { batch.lines[$0] }
                summary.rejected += bad.count
            }
            guard frame.rowCount > 0 else { return }
            var predictions = try trained.predictor.predict(frame)
            let warnings = expectations.warnings(frame)
            tally.add(warnings)
            summary.scored += predictions.count
            var outcomes: [HumilityGuard.Outcome] = []
            if let humility {
                outcomes = humility.evaluate(frame, predictions: predictions, warnings: warnings)
                for outcome in outcomes { for flag in outcome.flags { summary.flags[flag.rule, default: 0] += 1 } }
                summary.refused += outcomes.filter { $0.error != nil }.count
                predictions = humility.applying(outcomes, to: predictions)
                let reviewed = outcomes.indices.filter { outcomes[$0].review }
                if queue != nil, !reviewed.isEmpty {
                    forReview += try Self.reviewItems(trained, frame: frame, rows: reviewed, lines: lines, predictions: predictions,
                                                      outcomes: outcomes, requestID: runID)
                    summary.queued += reviewed.count
                }
            }
            func refused(_ row: Int) -> Bool { !outcomes.isEmpty && outcomes[row].error != nil }
            func flags(_ row: Int) -> String { outcomes.isEmpty ? "" : outcomes[row].flags.map(\.compact).joined(separator: "; ") }
            if let parquet {
                var columns: [ParquetWriter.Values] = ids.map { id in .strings((0..<frame.rowCount).map { frame[id]!.displayValue(at: $0) }) }
                columns.append(isClassifier ? .strings(predictions.indices.map { refused($0) ? nil : predictions[$0].label })
                                            : .doubles(predictions.indices.map { refused($0) ? nil : predictions[$0].value ?? Double(predictions[$0].label) }))
                if isClassifier {
                    for k in classes.indices {
                        columns.append(.doubles(predictions.indices.map { refused($0) || !predictions[$0].probabilities.indices.contains(k) ? nil : predictions[$0].probabilities[k] }))
                    }
                }
                if warningsColumn { columns.append(.strings(warnings.map { $0.map(\.compact).joined(separator: "; ") })) }
                if humility != nil { columns.append(.strings(predictions.indices.map(flags))) }
                try parquet.writeRowGroup(columns)
                return
            }
            var text = ""
            text.reserveCapacity(frame.rowCount * 48)
            for (row, prediction) in predictions.enumerated() {
                var fields = ids.map { frame[$0]!.displayValue(at: row) ?? "" }
                if refused(row) {
                    fields += [String](repeating: "", count: 1 + (isClassifier ? classes.count : 0))
                } else {
                    fields.append(prediction.label)
                    if isClassifier { fields += prediction.probabilities.map { String(format: "%.6g", $0) } }
                }
                if warningsColumn { fields.append(warnings[row].map(\.compact).joined(separator: "; ")) }
                if humility != nil { fields.append(flags(row)) }
                text += CSVLine.join(fields)
                text += "\n"
            }
            try emit(text)
        }
        if let queue, !forReview.isEmpty { try await queue(forReview) }
        if parquetOut, let out {
            // No batch at all: the file still has its (id-less) columns.
            if parquet == nil {
                let header = outputColumns(classes: classes, isClassifier: isClassifier)
                parquet = try ParquetWriter(path: out, columns: Self.parquetColumns(header, ids: 0, regression: !isClassifier))
            }
            try parquet?.commit()
        }
        try rejects?.commit()
        try sink?.commit()
        summary.warnings = tally.lines
        return summary
    }

    private func outputColumns(classes: [String], isClassifier: Bool) -> [String] {
        ["prediction"] + (isClassifier ? classes.map { "proba_\($0)" } : []) + (warningsColumn ? ["warnings"] : []) + (humility != nil ? ["flags"] : [])
    }

    /// The Parquet columns for `header`: ids and labels and warnings are strings, the regression value and
    /// the probabilities doubles.
    static func parquetColumns(_ header: [String], ids: Int, regression: Bool) -> [ParquetWriter.Column] {
        header.enumerated().map { i, name in
            let isDouble = i > ids ? name != "warnings" && name != "flags" : (i == ids && regression)
            return ParquetWriter.Column(name: name, type: isDouble ? .double : .string)
        }
    }

    /// Review items for rows of a batch: the request id names the file and the run, the row is the data line;
    /// the caller names the model and version.
    static func reviewItems(_ model: TrainedModel, frame: Frame, rows: [Int], lines: [Int], predictions: [Predictor.Prediction],
                            outcomes: [HumilityGuard.Outcome], requestID: String) throws -> [ReviewItem] {
        let (reasons, unexplained) = ReviewReasons.make(model, frame: frame, rows: rows)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let classes = model.schema.task?.classes ?? []
        let isClassifier = model.schema.task?.kind != .regression
        let features = model.schema.columns.filter { $0.role == .feature || $0.role == .id }.map(\.name)
        let now = Date().timeIntervalSince1970
        return try rows.enumerated().map { index, row in
            var inputs: [String: String] = [:]
            for name in features { if let value = frame[name]?.displayValue(at: row) { inputs[name] = value } }
            let probabilities = isClassifier
                ? String(decoding: try encoder.encode(Dictionary(uniqueKeysWithValues: zip(classes, predictions[row].probabilities))), as: UTF8.self) : nil
            let reason = try ReviewReasons.json(reasons, index, unexplained: unexplained)
            return ReviewItem(model: "", version: "", requestID: requestID, row: lines[row], createdAt: now,
                              inputs: String(decoding: try encoder.encode(inputs), as: UTF8.self), prediction: predictions[row].label,
                              probabilities: probabilities, confidence: isClassifier ? predictions[row].probabilities.max() : nil,
                              reasons: reason, flags: String(decoding: try encoder.encode(outcomes[row].flags), as: UTF8.self))
        }
    }
}

/// One CSV line from fields, quoting those that need it (RFC 4180).
public enum CSVLine {
    public static func join(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",")
    }

    public static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Writes `frame` as CSV (a header, then one line per row; missing values empty) atomically: a temporary
    /// file, fsync, rename, so a failure leaves no half-written file.
    public static func write(_ frame: Frame, to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.append(join(frame.columnNames) + "\n")
        var text = ""
        text.reserveCapacity(1 << 16)
        for row in 0..<frame.rowCount {
            text += join(frame.columns.map { $0.displayValue(at: row) ?? "" })
            text += "\n"
            if text.utf8.count >= 1 << 16 {
                try writer.append(text)
                text.removeAll(keepingCapacity: true)
            }
        }
        try writer.append(text)
        try writer.commit()
    }
}
