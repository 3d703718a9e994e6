import ArgumentParser
import Foundation
import KeelArtifact
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

    @Option(help: ArgumentHelp("A privacy rule: COLUMN=drop, pseudonymise, generalise[:N|:month|:year] or keep (repeatable; direct identifiers are dropped by default).", valueName: "column=rule"))
    var privacy: [String] = []

    @Option(name: .customLong("allow-pii"), help: ArgumentHelp("Keep a direct identifier as it is (repeatable; written to the audit log).", valueName: "column"))
    var allowPII: [String] = []

    @OptionGroup var piiKey: PIIKeyOptions

    @OptionGroup var reading: ReadingOptions

    func validate() throws {
        _ = try privacyFlags()
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

    /// `--privacy COLUMN=RULE` flags, parsed.
    func privacyFlags() throws -> [String: PrivacyPolicy.Declared] {
        var rules: [String: PrivacyPolicy.Declared] = [:]
        for flag in privacy {
            guard let equals = flag.firstIndex(of: "="), equals != flag.startIndex else {
                throw ValidationError("--privacy takes COLUMN=RULE (e.g. email=pseudonymise), not '\(flag)'")
            }
            let column = String(flag[..<equals])
            do {
                rules[column] = .init(try PrivacyRule(parsing: String(flag[flag.index(after: equals)...])), source: "--privacy \(flag)")
            } catch let error as DataError {
                throw ValidationError("--privacy \(flag): \(error)")
            }
        }
        return rules
    }

    /// Takes the data settings of a config file where no flag gave them.
    mutating func merge(_ config: TrainConfig?) {
        guard let config else { return }
        if allowPII.isEmpty { allowPII = config.allowPII ?? [] }
        piiKey.keyFile = piiKey.keyFile ?? config.piiKeyFile
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
        flags += privacy.map { "--privacy \($0)" } + allowPII.map { "--allow-pii \($0)" }
        if piiKey.keyFile != nil { flags.append("--pii-key-file FILE") }
        return flags
    }

    /// The privacy rules declared: the schema file's, then the config's, then the flags' (each over the last).
    func declaredPrivacy(_ file: Schema?, config: [String: PrivacyRule]) throws -> [String: PrivacyPolicy.Declared] {
        var rules: [String: PrivacyPolicy.Declared] = [:]
        for (column, rule) in file?.privacy ?? [:] { rules[column] = .init(rule, source: "the schema file's privacy key (\(column): \(rule))") }
        for (column, rule) in config { rules[column] = .init(rule, source: "the config's privacy key (\(column): \(rule))") }
        for (column, declared) in try privacyFlags() { rules[column] = declared }
        // --allow-pii keeps a column whatever a file said of it (inspect writes the default `drop` there); a
        // --privacy flag saying otherwise is a contradiction `resolve` names.
        for column in allowPII where rules[column].map({ !$0.source.hasPrefix("--privacy") }) ?? false {
            rules[column] = .init(.keep, source: "--allow-pii \(column)")
        }
        return rules
    }

    /// Reads the file, infers its schema, then applies the schema file and the flags, in that order; then
    /// decides each column's privacy rule and, when `protect` is set, applies the rules to the data, so what
    /// is returned (and all that is kept of it) holds no dropped column and no raw pseudonymised value.
    /// `configPrivacy`: the train config's `privacy` key, under the flags.
    func load(_ path: String, quiet: Bool, protect: Bool = true, configPrivacy: [String: PrivacyRule] = [:]) throws -> LoadedData {
        let started = ContinuousClock.now
        let declared = try schema.map(SchemaFile.read)
        let privacyRules = try declaredPrivacy(declared, config: configPrivacy)
        var csv = csvOptions
        csv.stringColumns.formUnion(PrivacyPolicy.textColumns(privacyRules))
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
        try PrivacyPolicy.resolve(&inference.schema, declared: privacyRules, allowed: allowPII)
        // What inference said of a column the policy drops (an identifier, a high cardinality) is moot.
        let droppedNames = inference.schema.columns(withPrivacy: { $0 == .drop })
        inference.warnings.removeAll { warning in droppedNames.contains { warning.hasPrefix("'\($0)' ") } }
        // The rules act on the values as the schema types them (a date column's dates, not its spelling).
        var protected = try raw.conforming(to: inference.schema)
        if protect {
            let key = inference.schema.needsPseudonymKey ? try KeyedHasher.personalDataKey(file: piiKey.keyFile) : nil
            let privacyGuard = try PrivacyGuard(schema: inference.schema, pseudonymiser: key, keySource: PIIKeyOptions.source)
            protected = try privacyGuard.apply(protected)
            inference.schema.pseudonymKeyCheck = key?.keyCheck
            // Pseudonyms and prefixes are text, whatever the column held before, and scoring reads them as text
            // (so `007` keeps its zeros in a file of numbers).
            var text = Set(inference.schema.textColumns ?? [])
            for (name, operation) in privacyGuard.operations {
                guard let index = inference.schema.columns.firstIndex(where: { $0.name == name }) else { continue }
                switch operation {
                case .pseudonymise, .prefix:
                    inference.schema.columns[index].kind = .categorical
                    inference.schema.columns[index].flags.removeAll { $0 == .integerCodes || $0 == .infiniteValues }
                    inference.schema.columns[index].missingWords = nil
                    text.insert(name)
                default: break
                }
            }
            inference.schema.textColumns = text.isEmpty ? nil : text.sorted()
        }
        let frame = try protected.conforming(to: inference.schema)
        if !quiet {
            let seconds = (ContinuousClock.now - started).seconds
            Terminal.progress("read \(path): \(frame.rowCount) rows × \(frame.columnCount) columns in \(String(format: "%.2f", seconds)) s")
            for note in inference.notes {
                Terminal.progress("note: \(note)")
            }
            for line in Self.privacyLines(inference.schema, applied: protect) { Terminal.progress(line) }
        }
        return LoadedData(path: path, frame: frame, inference: inference)
    }
}

extension DataOptions {
    /// What the privacy policy does, one line per rule, for the terminal.
    static func privacyLines(_ schema: Schema, applied: Bool) -> [String] {
        guard let rules = schema.privacy else { return [] }
        let verb = applied ? "" : " (when training)"
        return schema.columns.compactMap { column in
            guard let rule = rules[column.name] else { return nil }
            let what = column.pii.map { " (\($0.kind.description), \($0.identifierClass == .direct ? "direct identifier" : "quasi-identifier"))" } ?? ""
            switch rule {
            case .drop: return "privacy: dropping '\(column.name)'\(what)\(verb); --privacy \(column.name)=pseudonymise --pii-key-file FILE or --allow-pii \(column.name) changes it"
            case .pseudonymise: return "privacy: pseudonymising '\(column.name)'\(what)\(verb) with HMAC-SHA256 under the --pii-key-file key"
            case .generalise(let level):
                let how = switch (column.kind, level) {
                case (.datetime, .year?): "to the year"
                case (.datetime, _): "to the month"
                case (.numeric, .width(let width)?): "into bands of \(NumberFormatting.canonical(width))"
                case (.numeric, _): "into bands of 10"
                case (_, .width(let width)?): "to the first \(Int(width)) characters"
                default: "to the part before the first space (else the first 3 characters)"
                }
                return "privacy: generalising '\(column.name)'\(what)\(verb) \(how) (\(rule))"
            case .keep where column.pii?.identifierClass == .direct: return "privacy: keeping '\(column.name)'\(what) as it is (--allow-pii \(column.name); written to the audit log)"
            case .keep: return nil
            }
        }
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
