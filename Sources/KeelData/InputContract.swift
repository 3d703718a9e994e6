import Foundation

/// What a model accepts as input, derived once from its schema: which columns are features, which must be
/// present, and how each feature's kind reads a value. Every source of rows to score asks it, value by value:
/// `keel predict` for the columns of a CSV or Parquet file, `POST /v1/predict` for the fields of JSON rows. So
/// one value gets one verdict, and one sentence naming its field, wherever it comes from.
///
/// The rules:
/// - a feature that was never missing in training must be present (a column of the file, a field of each
///   row); the others may be absent and are read as missing;
/// - a missing value (an empty cell, `null`, or a word training read as missing, such as `unknown`) is
///   accepted in any feature; where training never saw one, the prediction carries the `unexpected_missing`
///   warning (`InputExpectations`);
/// - numeric: a number, or text that reads as one (a file's cells are text until read);
/// - datetime: a date or date-time string (`DateTimeParser`), or a date its reader already parsed;
/// - boolean: a boolean, or `true` / `false` as text in any case;
/// - categorical and text: any string; numbers and booleans are read as their canonical text.
///
/// A file's column kinds are guessed by its reader, so a file's values get the conversions training's
/// reading of a file applies (`Frame.conforming`): a boolean column in a numeric feature reads as 1 and 0, a
/// numeric column in a date feature as seconds since 1970 (`Raw.inferred`). A request's JSON types are the
/// client's own and are not converted.
///
/// What a source's transport adds stays with it: the server's limits on string length and row counts, the
/// server refusing fields that are not columns of the schema (a file's extra columns are ignored and named).
public struct InputContract: Sendable {
    public let features: [ColumnSchema]

    public init(schema: Schema) {
        features = schema.columns(withRole: .feature)
    }

    /// Each feature's position in `features`, by name.
    public var featureIndex: [String: Int] { Dictionary(uniqueKeysWithValues: features.enumerated().map { ($1.name, $0) }) }

    /// A value as its source hands it over.
    public enum Raw: Sendable {
        case missing
        /// Typed as a number by its source (a JSON number, a cell of a numeric column).
        case number(Double)
        case flag(Bool)
        /// Typed as a string by its source (a JSON string).
        case string(String)
        /// Text its source did not type (a file's cell): read by the feature's kind.
        case cell(String)
        /// A date its reader already parsed, in seconds since 1970.
        case date(Double)
        /// A JSON array or object: never a value.
        case composite
        /// A value of a column whose kind its reader guessed (a file's): `.number`, `.flag` or `.date` as
        /// typed, with the conversions training's reading applies.
        indirect case inferred(Raw)
    }

    /// A feature's value as the model reads it.
    public enum Value: Equatable, Sendable {
        case missing
        case number(Double)
        case flag(Bool)
        case text(String)
    }

    /// Why a value or a row is refused, naming the field.
    public struct Problem: Error, Equatable, Sendable {
        public enum Code: String, Sendable {
            /// A feature that must be present is absent.
            case missingField = "missing_field"
            /// A value the feature's kind does not read.
            case wrongType = "wrong_type"
        }

        public var code: Code
        public var field: String
        /// What the field accepts, in words (`InputContract.expected`).
        public var expected: String

        /// The sentence for a source that does not echo values (an API): "'fee' must be a number".
        public var message: String {
            switch code {
            case .missingField: "'\(field)' is required: it had no missing values in training"
            case .wrongType: "'\(field)' must be \(expected)"
            }
        }

        /// The sentence for a source that names the value (a file's line and column say where it is).
        public func message(value: String) -> String {
            switch code {
            case .missingField: message
            case .wrongType: "'\(value)' is not \(expected)"
            }
        }
    }

    /// The blanks around a missing-value word in a JSON string that still read as missing: spaces and tabs,
    /// as the API document's pattern says. Around a file's cell, any space (`CharacterSet.whitespaces`), as
    /// training's reading of words among numbers trims.
    public static let blanks = CharacterSet(charactersIn: " \t")

    /// Reads one value of feature `f`.
    public func read(_ raw: Raw, feature f: Int) -> Result<Value, Problem> {
        let feature = features[f]
        switch (feature.kind, raw) {
        case (_, .missing):
            return .success(.missing)
        case (_, .string(let text)) where isMissingWord(text, feature, trimming: Self.blanks),
             (_, .cell(let text)) where isMissingWord(text, feature, trimming: .whitespaces):
            return .success(.missing)
        case (.numeric, .inferred(.flag(let flag))):
            return .success(.number(flag ? 1 : 0))
        case (.datetime, .inferred(.number(let x))):
            return .success(x.isNaN ? .missing : .number(x))
        case (_, .inferred(let typed)):
            return read(typed, feature: f)
        case (.numeric, .number(let x)), (.numeric, .date(let x)):
            return .success(x.isNaN ? .missing : .number(x))
        case (.numeric, .cell(let text)):
            var copy = text
            if let x = copy.withUTF8({ NumberParser.parse($0) }) { return .success(.number(x)) }
        case (.datetime, .date(let seconds)):
            return .success(seconds.isNaN ? .missing : .number(seconds))
        case (.datetime, .string(let text)), (.datetime, .cell(let text)):
            if let seconds = DateTimeParser.parse(text) { return .success(.number(seconds)) }
        case (.boolean, .flag(let flag)):
            return .success(.flag(flag))
        case (.boolean, .string(let text)), (.boolean, .cell(let text)):
            if let flag = Column.boolean(text) { return .success(.flag(flag)) }
        case (.categorical, .string(let text)), (.text, .string(let text)), (.categorical, .cell(let text)), (.text, .cell(let text)):
            return .success(.text(text))
        case (.categorical, .number(let x)), (.text, .number(let x)):
            return .success(x.isNaN ? .missing : .text(NumberFormatting.canonical(x)))
        case (.categorical, .flag(let flag)), (.text, .flag(let flag)):
            return .success(.text(flag ? "true" : "false"))
        case (.categorical, .date(let seconds)), (.text, .date(let seconds)):
            return .success(seconds.isNaN ? .missing : .text(DateTimeParser.format(seconds)))
        default:
            break
        }
        return .failure(Problem(code: .wrongType, field: feature.name, expected: Self.expected(feature)))
    }

    /// The problem of feature `f` absent from a row or a file: nil when it may be absent.
    public func absent(feature f: Int) -> Problem? {
        features[f].nullable ? nil : Problem(code: .missingField, field: features[f].name, expected: Self.expected(features[f]))
    }

    /// The first required feature `present` does not name, as a problem (nil: all are there).
    public func firstAbsent(_ present: (String) -> Bool) -> Problem? {
        for f in features.indices where !present(features[f].name) {
            if let problem = absent(feature: f) { return problem }
        }
        return nil
    }

    private func isMissingWord(_ text: String, _ feature: ColumnSchema, trimming blanks: CharacterSet) -> Bool {
        guard let words = feature.missingWords, !words.isEmpty else { return false }
        return words.contains(text.trimmingCharacters(in: blanks))
    }

    /// What a feature accepts, in words: the end of every wrong-type sentence and of the API document's
    /// description of the field.
    public static func expected(_ feature: ColumnSchema) -> String {
        switch feature.kind {
        case .numeric:
            let words = (feature.missingWords ?? []).map { "\"\($0)\"" }.joined(separator: ", ")
            return "a number" + (words.isEmpty ? "" : " (\(words) for a missing value)")
        case .datetime: return "a date or date-time such as 2024-05-31 or 2024-05-31T08:15:00Z"
        case .boolean: return "true or false"
        case .categorical, .text: return "a string (numbers and booleans are read as their text)"
        }
    }
}

extension InputContract {
    /// A value the contract refused, by row of the frame it was read from.
    public struct RefusedCell: Sendable, Equatable {
        public var row: Int
        public var value: String
        public var problem: Problem
    }

    /// Reads a file's column for feature `f`: as it is when its kind is the feature's; level by level when
    /// it is text (each level read once, codes remapped, no per-row strings); value by value otherwise.
    /// Returns the typed column, with refused values read as missing, and the refused values in row order.
    public func read(_ column: Column, feature f: Int) -> (column: Column, refused: [RefusedCell]) {
        read(column, feature: f, building: true)
    }

    /// The values of `column` the contract refuses for feature `f`, without building the typed column.
    public func refusals(_ column: Column, feature f: Int) -> [RefusedCell] {
        read(column, feature: f, building: false).refused
    }

    private func read(_ column: Column, feature f: Int, building: Bool) -> (column: Column, refused: [RefusedCell]) {
        let feature = features[f]
        if readsAsIs(column, feature: f) { return (Column(name: feature.name, values: column.values), []) }
        var refused: [RefusedCell] = []
        switch column.values {
        case .categorical(let strings), .text(let strings):
            let byLevel = strings.levels.map { read(.cell($0), feature: f) }
            for (row, code) in strings.codes.enumerated() where code != EncodedStrings.missing {
                if case .failure(let problem) = byLevel[Int(code)] {
                    refused.append(RefusedCell(row: row, value: strings.levels[Int(code)], problem: problem))
                }
            }
            guard building else { break }
            if feature.kind == .categorical || feature.kind == .text {
                // Text to text keeps the levels; a level read as missing (a word) loses its rows.
                let codes = strings.codes.map { code in
                    guard code != EncodedStrings.missing, case .success(.text) = byLevel[Int(code)] else { return EncodedStrings.missing }
                    return code
                }
                let kept = EncodedStrings(codes: codes, levels: strings.levels)
                return (Column(name: feature.name, values: feature.kind == .text ? .text(kept) : .categorical(kept)), refused)
            }
            var builder = Builder(kind: feature.kind, capacity: column.count)
            for code in strings.codes {
                guard code != EncodedStrings.missing, case .success(let value) = byLevel[Int(code)] else { builder.append(.missing); continue }
                builder.append(value)
            }
            return (builder.column(named: feature.name), refused)
        default:
            var builder = Builder(kind: building ? feature.kind : .numeric, capacity: building ? column.count : 0)
            for row in 0..<column.count {
                let raw: Raw = switch column.values {
                case .numeric(let v): v[row].isNaN ? .missing : .inferred(.number(v[row]))
                case .datetime(let v): v[row].isNaN ? .missing : .inferred(.date(v[row]))
                case .boolean(let b): b[row] == Column.missingBoolean ? .missing : .inferred(.flag(b[row] == 1))
                case .categorical, .text: .missing
                }
                switch read(raw, feature: f) {
                case .success(let value): if building { builder.append(value) }
                case .failure(let problem):
                    refused.append(RefusedCell(row: row, value: column.displayValue(at: row) ?? "", problem: problem))
                    if building { builder.append(.missing) }
                }
            }
            if building { return (builder.column(named: feature.name), refused) }
        }
        return (column, refused)
    }

    /// Whether `column` already holds what the contract would read from it for feature `f`: its kind is the
    /// feature's, and no missing-value word needs reading out of its text.
    public func readsAsIs(_ column: Column, feature f: Int) -> Bool {
        let feature = features[f]
        guard column.kind == feature.kind else { return false }
        return (feature.missingWords ?? []).isEmpty || !(column.kind == .categorical || column.kind == .text)
    }

    /// Values of one feature's kind, appended one at a time (a source of rows builds one per feature).
    public struct Builder: Sendable {
        public let kind: ColumnKind
        private var numbers: [Double] = []
        private var flags: [UInt8] = []
        private var strings = LevelCoder()

        public init(kind: ColumnKind, capacity: Int) {
            self.kind = kind
            switch kind {
            case .numeric, .datetime: numbers.reserveCapacity(capacity)
            case .boolean: flags.reserveCapacity(capacity)
            case .categorical, .text: strings = LevelCoder(capacity: capacity)
            }
        }

        /// Appends a value `InputContract.read` gave for a feature of this kind.
        public mutating func append(_ value: Value) {
            switch (kind, value) {
            case (.numeric, .number(let x)), (.datetime, .number(let x)): numbers.append(x)
            case (.boolean, .flag(let flag)): flags.append(flag ? 1 : 0)
            case (.categorical, .text(let text)), (.text, .text(let text)): strings.append(text)
            case (.numeric, _), (.datetime, _): numbers.append(.nan)
            case (.boolean, _): flags.append(Column.missingBoolean)
            case (.categorical, _), (.text, _): strings.appendMissing()
            }
        }

        public func column(named name: String) -> Column {
            switch kind {
            case .numeric: Column(name: name, values: .numeric(numbers))
            case .datetime: Column(name: name, values: .datetime(numbers))
            case .boolean: Column(name: name, values: .boolean(flags))
            case .categorical: Column(name: name, values: .categorical(strings.encoded))
            case .text: Column(name: name, values: .text(strings.encoded))
            }
        }
    }
}
