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
        let reference = Dictionary((model.referenceProfile?.columns ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let encoded = Dictionary(model.pipeline.encoder.features.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
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
            for row in 0..<frame.rowCount {
                guard let shown = column.displayValue(at: row) else {
                    if !feature.nullable {
                        result[row].append(InputWarning(code: .unexpectedMissing, field: feature.name, value: "missing",
                                                        message: "'\(feature.name)' is missing; it never was in training"))
                    }
                    continue
                }
                if let levels = feature.levels, !levels.contains(shown) {
                    result[row].append(InputWarning(code: .unseenLevel, field: feature.name, value: Self.clipped(shown),
                                                    message: "'\(Self.clipped(shown))' is not a level of '\(feature.name)' in training; it is scored as a missing value"))
                } else if let range = feature.range, let number = Self.number(column, row: row, shown: shown), !range.contains(number) {
                    result[row].append(InputWarning(code: .outOfRange, field: feature.name, value: Self.clipped(shown),
                                                    message: "\(Self.clipped(shown)) is outside the training range of '\(feature.name)' (\(NumberFormatting.canonical(range.lowerBound)) to \(NumberFormatting.canonical(range.upperBound)))"))
                }
            }
        }
        return result
    }

    private static func number(_ column: Column, row: Int, shown: String) -> Double? {
        switch column.values {
        case .numeric(let v), .datetime(let v): return v[row].isNaN ? nil : v[row]
        default: return Double(shown)
        }
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
