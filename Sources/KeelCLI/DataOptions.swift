import ArgumentParser
import Foundation
import KeelData
import KeelLearn
import KeelSearch

/// The flags every command that reads data shares: how to read the file and what its columns are.
struct DataOptions: ParsableArguments {
    @Option(help: "The column to predict.")
    var target: String?

    @Option(help: ArgumentHelp("A schema file (YAML or JSON) from `keel inspect --write-schema`.", valueName: "file"))
    var schema: String?

    @Option(help: "The task: binary, multiclass or regression (inferred from the target by default).")
    var task: TaskKind?

    @Option(help: "The positive class of a binary target.")
    var positiveClass: String?

    @Option(help: ArgumentHelp("An identifier column, never a feature (repeatable).", valueName: "column"))
    var id: [String] = []

    @Option(name: .customLong("time-column"), help: ArgumentHelp("The time column: splits and validation follow its order.", valueName: "column"))
    var timeColumn: String?

    @Option(help: ArgumentHelp("A group column: rows of one group never straddle a split.", valueName: "column"))
    var group: String?

    @Option(help: ArgumentHelp("A column of non-negative row weights.", valueName: "column"))
    var weight: String?

    @Option(help: ArgumentHelp("A protected attribute, kept for fairness audits and never a feature (repeatable).", valueName: "column"))
    var protected: [String] = []

    @Option(help: ArgumentHelp("A column to leave out (repeatable).", valueName: "column"))
    var ignore: [String] = []

    @Option(help: ArgumentHelp("Use a column as a feature although it was flagged (id-like, constant) (repeatable).", valueName: "column"))
    var feature: [String] = []

    @Option(help: ArgumentHelp("Treat a column as categorical, keeping its exact spelling (repeatable).", valueName: "column"))
    var categorical: [String] = []

    @Option(help: ArgumentHelp("Treat a column as numeric (repeatable).", valueName: "column"))
    var numeric: [String] = []

    @Option(help: ArgumentHelp("The field separator (default: detected from , ; tab |). Write `tab` for a tab.", valueName: "char"))
    var delimiter: String?

    @Option(help: ArgumentHelp("A value meaning 'missing' (repeatable; replaces the defaults: empty, NA, N/A, NaN, nan, null, NULL, ?).", valueName: "text"))
    var missing: [String] = []

    @Flag(help: "The file has no header row; columns are named column_1, column_2, ….")
    var noHeader = false

    @OptionGroup var reading: ReadingOptions

    func validate() throws {
        if let delimiter, delimiter != "tab", delimiter.utf8.count != 1 {
            throw ValidationError("--delimiter takes one character or `tab`, not '\(delimiter)'")
        }
    }

    var csvOptions: CSVOptions {
        var options = CSVOptions()
        if let delimiter { options.delimiter = delimiter == "tab" ? UInt8(ascii: "\t") : delimiter.utf8.first }
        options.hasHeader = !noHeader
        if !missing.isEmpty { options.missingMarkers = missing }
        options.stringColumns = Set(categorical)
        if let given = try? reading.parsed() { (options.decimal, options.thousands, options.encoding) = given }
        options.format = reading.format
        return options
    }

    var overrides: SchemaOverrides {
        var overrides = SchemaOverrides()
        overrides.task = task
        overrides.positiveClass = positiveClass
        overrides.ids = id
        overrides.time = timeColumn
        overrides.group = group
        overrides.weight = weight
        overrides.protected = protected
        overrides.ignored = ignore
        overrides.features = feature
        overrides.categorical = categorical
        overrides.numeric = numeric
        return overrides
    }

    /// Takes the data settings of a config file where no flag gave them.
    mutating func merge(_ config: TrainConfig?) {
        guard let config else { return }
        if ignore.isEmpty { ignore = config.ignore ?? [] }
        if feature.isEmpty { feature = config.features ?? [] }
        if protected.isEmpty { protected = config.protected ?? [] }
        timeColumn = timeColumn ?? config.timeColumn
        group = group ?? config.group
        weight = weight ?? config.weight
    }

    /// The flags given, as typed, for reports.
    var given: [String] {
        var flags: [String] = []
        if let schema { flags.append("--schema \(schema)") }
        if let task { flags.append("--task \(task.rawValue)") }
        if let positiveClass { flags.append("--positive-class \(positiveClass)") }
        flags += id.map { "--id \($0)" } + protected.map { "--protected \($0)" } + ignore.map { "--ignore \($0)" }
        flags += feature.map { "--feature \($0)" } + categorical.map { "--categorical \($0)" } + numeric.map { "--numeric \($0)" }
        for (flag, value) in [("--time-column", timeColumn), ("--group", group), ("--weight", weight)] { if let value { flags.append("\(flag) \(value)") } }
        return flags
    }

    /// Reads the file, infers its schema, then applies the schema file and the flags, in that order.
    func load(_ path: String, quiet: Bool) throws -> LoadedData {
        let started = ContinuousClock.now
        let declared = try schema.map(SchemaFile.read)
        var csv = csvOptions
        if let declared {
            // Flags win over the schema file's keys.
            let fromFile = try ReadingOptions.parse(decimal: declared.decimal, thousands: declared.thousands, encoding: declared.encoding, source: "schema file key ")
            csv.decimal = csv.decimal ?? fromFile.decimal
            csv.thousands = csv.thousands ?? fromFile.thousands
            csv.encoding = csv.encoding ?? fromFile.encoding
            csv.stringColumns.formUnion(declared.textColumns ?? [])
        }
        let raw = try CSVReader.read(path: path, options: csv)
        var inference = try SchemaInference.infer(raw, target: target ?? declared?.target)
        if let declared { try inference.schema.adopt(declared, frame: raw) }
        try overrides.apply(to: &inference.schema, frame: raw)
        // How the file was read goes with the schema, so prediction reads its files the same way.
        inference.schema.encoding = raw.encoding == .utf8 ? nil : raw.encoding.rawValue
        inference.schema.decimal = raw.numberStyle.map { String($0.decimal) }
        inference.schema.thousands = raw.numberStyle.map { $0.thousands.map { $0 == " " ? "space" : String($0) } ?? "none" }
        inference.schema.textColumns = csv.stringColumns.isEmpty ? nil : csv.stringColumns.sorted()
        let frame = try raw.conforming(to: inference.schema)
        if !quiet {
            let seconds = (ContinuousClock.now - started).seconds
            Terminal.progress("read \(path): \(frame.rowCount) rows × \(frame.columnCount) columns in \(String(format: "%.2f", seconds)) s")
            for note in inference.notes {
                Terminal.progress("note: \(note)")
            }
        }
        return LoadedData(path: path, frame: frame, inference: inference)
    }
}

/// A data file as read, typed and described.
struct LoadedData {
    var path: String
    var frame: Frame
    var inference: SchemaInference.Result
    var schema: Schema { inference.schema }
}

extension TaskKind: ExpressibleByArgument {}

extension DataFormat: ExpressibleByArgument {}


/// How a file writes its numbers and text: `--decimal`, `--thousands`, `--encoding` (also schema-file keys).
/// Training and scoring share them; each defaults to what the file shows (or, when scoring, to how training
/// read its file).
struct ReadingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The decimal mark: `.` or `,` (default: detected, e.g. 984,90 in a `;` file from a spreadsheet).", valueName: "char"))
    var decimal: String?

    @Option(help: ArgumentHelp("The thousands separator: `,` `.` `space` or `none` (default: detected).", valueName: "char"))
    var thousands: String?

    @Option(help: ArgumentHelp("The file's encoding: utf-8, latin-1 or windows-1252 (default: UTF-8, or Windows-1252 when the bytes say so).", valueName: "name"))
    var encoding: String?

    @Option(help: ArgumentHelp("The file's format: csv or parquet (default: by the extension, then by the first bytes: PAR1 is Parquet).", valueName: "format"))
    var format: DataFormat?

    func validate() throws { _ = try parsed() }

    func parsed() throws -> (decimal: Character?, thousands: Character?, encoding: TextEncoding?) {
        try Self.parse(decimal: decimal, thousands: thousands, encoding: encoding, source: "--")
    }

    /// The decimal mark, thousands separator (`-` for none) and encoding, checked; `source` names where
    /// they came from in messages.
    static func parse(decimal: String?, thousands: String?, encoding: String?, source: String) throws
        -> (decimal: Character?, thousands: Character?, encoding: TextEncoding?) {
        var result: (decimal: Character?, thousands: Character?, encoding: TextEncoding?) = (nil, nil, nil)
        if let decimal {
            guard decimal == "." || decimal == "," else { throw ValidationError("\(source)decimal takes `.` or `,`, not '\(decimal)'") }
            result.decimal = Character(decimal)
        }
        if let thousands {
            switch thousands {
            case ",", ".": result.thousands = Character(thousands)
            case " ", "space": result.thousands = " "
            case "none", "": result.thousands = "-"
            default: throw ValidationError("\(source)thousands takes `,` `.` `space` or `none`, not '\(thousands)'")
            }
        }
        if let decimal = result.decimal, decimal == result.thousands {
            throw ValidationError("the decimal mark and the thousands separator cannot both be '\(decimal)'")
        }
        if let encoding {
            guard let parsed = TextEncoding(name: encoding) else {
                throw ValidationError("\(source)encoding takes utf-8, latin-1 or windows-1252, not '\(encoding)'")
            }
            result.encoding = parsed
        }
        return result
    }
}

extension CSVOptions {
    /// How to read a file a model scores: as `reading` says, else as training read its file (recorded in the
    /// schema), else detected; text columns as training had them; words among numbers left to the schema,
    /// which knows the ones training read as missing, so any other word is an error naming its line.
    static func scoring(_ trained: TrainedModel, reading: ReadingOptions? = nil) throws -> CSVOptions {
        var options = CSVOptions()
        options.stringColumns = Set(trained.schema.textColumns ?? [])
        options.wordsAmongNumbers = false
        let given = try reading?.parsed() ?? (decimal: nil, thousands: nil, encoding: nil)
        let trainedWith = try ReadingOptions.parse(decimal: trained.schema.decimal, thousands: trained.schema.thousands,
                                                   encoding: trained.schema.encoding, source: "the model's schema ")
        options.decimal = given.decimal ?? trainedWith.decimal
        options.thousands = given.thousands ?? trainedWith.thousands
        options.encoding = given.encoding ?? trainedWith.encoding
        options.format = reading?.format
        // A Parquet file is read for the columns the model knows only (CSV files are read whole).
        options.columns = Set(trained.schema.columns.map(\.name))
        return options
    }

    /// Says which columns of a Parquet file `columns` left unread (the model does not use them): a column is
    /// never left out without a word. CSV files and standard input are read whole.
    func noteUnreadColumns(of file: String) throws {
        if let unread = try unreadColumnsNote(of: file) { Terminal.progress(unread) }
    }
}
