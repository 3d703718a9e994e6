import KeelData

/// Where a prediction rests on a guess: an input the model never saw in training. Scoring still answers
/// (an unseen level goes the way missing values go, a value past the training range is treated as the
/// nearest edge by trees), and says so per row.
public struct InputWarning: Codable, Sendable, Equatable {
    public enum Code: String, Codable, Sendable, CaseIterable {
        /// A categorical value the training data did not have.
        case unseenLevel = "unseen_level"
        /// A number below the training minimum or above the training maximum.
        case outOfRange = "out_of_range"
        /// A missing value in a column that was never missing in training.
        case unexpectedMissing = "unexpected_missing"
    }

    public var code: Code
    public var field: String
    public var value: String
    public var message: String
}

/// What training saw of each feature, for checking inputs: the levels of categorical features, the range
/// of numeric ones, and whether each was ever missing. Built once per loaded model.
public struct InputExpectations: Sendable {
    struct Feature: Sendable {
        var name: String
        var kind: ColumnKind
        var nullable: Bool
        var levels: Set<String>?
        var range: ClosedRange<Double>?
        var missingWords: [String]?
    }

    let features: [Feature]

    public init(_ model: TrainedModel) {
        let reference = Dictionary((model.profile?.columns ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let encoded = Dictionary(model.predictor.pipeline.encoder.features.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        features = model.schema.columns(withRole: .feature).map { column in
            var levels: Set<String>?
            var range: ClosedRange<Double>?
            switch column.kind {
            case .categorical, .boolean:
                if let profile = reference[column.name], profile.kind == .categorical, !profile.levels.isEmpty {
                    levels = Set(profile.levels)
                } else if let feature = encoded[column.name], feature.kind == .categorical, !feature.levels.isEmpty {
                    levels = Set(feature.levels)
                }
            case .numeric, .datetime:
                if let profile = reference[column.name], let low = profile.minimum, let high = profile.maximum, low <= high {
                    range = low...high
                }
            case .text:
                break
            }
            return Feature(name: column.name, kind: column.kind, nullable: column.nullable, levels: levels, range: range,
                           missingWords: column.missingWords)
        }
    }

    /// The warnings of each row of `frame` (already conformed or as read: values are compared as written).
    public func warnings(_ frame: Frame) -> [[InputWarning]] {
        var result = [[InputWarning]](repeating: [], count: frame.rowCount)
        for feature in features {
            guard let column = frame[feature.name]?.readingWordsAsMissing(feature.missingWords) else {
                if !feature.nullable {
                    for row in 0..<frame.rowCount {
                        result[row].append(InputWarning(code: .unexpectedMissing, field: feature.name, value: "missing",
                                                        message: "'\(feature.name)' is missing; it never was in training"))
                    }
                }
                continue
            }
            // Per column kind, then per row on the stored values: strings are made only for warnings (this
            // runs for every served prediction).
            func missing(_ row: Int) {
                if !feature.nullable {
                    result[row].append(InputWarning(code: .unexpectedMissing, field: feature.name, value: "missing",
                                                    message: "'\(feature.name)' is missing; it never was in training"))
                }
            }
            func unseen(_ row: Int, _ shown: String) {
                result[row].append(InputWarning(code: .unseenLevel, field: feature.name, value: Self.clipped(shown),
                                                message: "'\(Self.clipped(shown))' is not a level of '\(feature.name)' in training; it is scored as a missing value"))
            }
            func outside(_ row: Int, _ shown: String, _ range: ClosedRange<Double>) {
                result[row].append(InputWarning(code: .outOfRange, field: feature.name, value: Self.clipped(shown),
                                                message: "\(Self.clipped(shown)) is outside the training range of '\(feature.name)' (\(NumberFormatting.canonical(range.lowerBound)) to \(NumberFormatting.canonical(range.upperBound)))"))
            }
            switch column.values {
            case .numeric(let v), .datetime(let v):
                for row in 0..<v.count {
                    if v[row].isNaN { missing(row); continue }
                    if let levels = feature.levels {
                        // Integer codes read as numbers: their levels are canonical spellings.
                        let shown = NumberFormatting.canonical(v[row])
                        if !levels.contains(shown) { unseen(row, shown) }
                    } else if let range = feature.range, !range.contains(v[row]) {
                        outside(row, column.displayValue(at: row) ?? NumberFormatting.canonical(v[row]), range)
                    }
                }
            case .categorical(let strings), .text(let strings):
                let isUnseen = strings.levels.map { level in feature.levels.map { !$0.contains(level) } ?? false }
                let numbers = feature.range == nil ? [] : strings.levels.map { Double($0.trimmingCharacters(in: .whitespaces)) }
                for (row, code) in strings.codes.enumerated() {
                    if code == EncodedStrings.missing { missing(row); continue }
                    let level = Int(code)
                    if isUnseen[level] {
                        unseen(row, strings.levels[level])
                    } else if let range = feature.range, let x = numbers[level], !range.contains(x) {
                        outside(row, strings.levels[level], range)
                    }
                }
            case .boolean(let flags):
                for (row, flag) in flags.enumerated() where flag == Column.missingBoolean { missing(row) }
            }
        }
        return result
    }

    private static func clipped(_ text: String) -> String {
        text.count > 80 ? String(text.prefix(79)) + "…" : text
    }
}

extension InputWarning {
    /// "unseen_level plan=platinum": a compact form for a CSV column.
    public var compact: String { "\(code.rawValue) \(field)=\(value)" }

    /// Warnings counted per code and column with one example each, in bounded memory over any number of
    /// batches; `lines` summarises them for a terminal.
    public struct Tally: Sendable {
        private var counts: [String: (count: Int, example: InputWarning)] = [:]

        public init() {}

        public mutating func add(_ rows: [[InputWarning]]) {
            for row in rows {
                for warning in row {
                    let key = "\(warning.code.rawValue)\u{0}\(warning.field)"
                    if let seen = counts[key] { counts[key] = (seen.count + 1, seen.example) } else { counts[key] = (1, warning) }
                }
            }
        }

        public var lines: [String] {
            counts.values.sorted { $0.count != $1.count ? $0.count > $1.count : $0.example.field < $1.example.field }.map { item in
                let what: String = switch item.example.code {
                case .unseenLevel: "a level of '\(item.example.field)' training never saw (e.g. '\(item.example.value)'), scored as missing"
                case .outOfRange: "a value of '\(item.example.field)' outside its training range (e.g. \(item.example.value))"
                case .unexpectedMissing: "'\(item.example.field)' missing, which it never was in training"
                }
                return "\(item.count) row\(item.count == 1 ? "" : "s") had \(what) [\(item.example.code.rawValue)]"
            }
        }
    }
}
