import ArgumentParser
import Foundation
import KeelData
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
        let raw = try CSVReader.read(path: path, options: csvOptions)
        let declared = try schema.map(SchemaFile.read)
        var inference = try SchemaInference.infer(raw, target: target ?? declared?.target)
        if let declared { try inference.schema.adopt(declared, frame: raw) }
        try overrides.apply(to: &inference.schema, frame: raw)
        let frame = try raw.conforming(to: inference.schema)
        if !quiet {
            let seconds = (ContinuousClock.now - started).seconds
            Terminal.progress("read \(path): \(frame.rowCount) rows × \(frame.columnCount) columns in \(String(format: "%.2f", seconds)) s")
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

