import KeelData

#if canImport(Glibc)
import Glibc
#endif

/// How raw columns become features. Trees take categories natively and missing values as they are;
/// linear models standardise and one-hot encode in `LinearDesign`. The steps here add what both need.
public struct PipelineOptions: Codable, Sendable, Equatable {
    /// Datetime columns become year, month, day of month, day of week, hour and elapsed days.
    public var dateParts = true
    /// Categorical columns with more levels than this also get an out-of-fold target encoding.
    public var targetEncodingAbove = 32
    /// Smoothing of target encodings towards the overall mean (pseudo-rows of the prior).
    public var targetEncodingSmoothing = 10.0
    /// Folds for the out-of-fold target encoding of training rows.
    public var targetEncodingFolds = 5
    /// Hashed TF-IDF buckets per text column.
    public var textBuckets = 64
    /// Categorical columns whose levels are all numbers also become their value (`LevelValues`). Off by
    /// default: the search turns it on when its probe scores better with them.
    public var levelValues = false
    public var seed: UInt64 = 0

    public init() {}
}

/// A fitted preprocessing pipeline: every step learned on training rows only, applied identically later.
///
/// Output features, in order: the encoder's columns (numbers, booleans and categories), then per datetime
/// column its parts, per pair of datetime columns their difference, per categorical whose levels are all
/// numbers their value, per high-cardinality categorical its target encoding(s), per text column its hashed
/// TF-IDF buckets. `sources[i]` names the input column
/// feature `i` came from, so explanations can be folded back into the user's columns.
public struct Pipeline: Codable, Sendable, Equatable {
    public let encoder: FeatureEncoder
    public let dateParts: [DateParts]
    /// Absent in artefacts from before it existed (decoded as none).
    public let dateDifferences: [DateDifference]
    /// Absent in artefacts from before it existed (decoded as none).
    public let levelValues: [LevelValues]
    public let targetEncodings: [TargetEncoder]
    public let texts: [HashedText]
    public let featureNames: [String]
    public let sources: [String]

    /// Fits on `frame` and returns the pipeline with the training features. Target encodings of training
    /// rows are out-of-fold, so a learner never sees a row's own target through them (no leakage).
    public static func fit(_ frame: Frame, schema: Schema, target: TargetEncoding?, options: PipelineOptions = PipelineOptions()) throws -> (Pipeline, FeatureMatrix) {
        let features = schema.columns(withRole: .feature)
        guard !features.isEmpty else { throw LearnError.invalidData("there are no feature columns: every column is the target, an identifier or ignored") }
        let typed = try frame.conforming(to: schema)
        let plain = features.filter { $0.kind != .text && !($0.kind == .datetime && options.dateParts) }.map(\.name)
        let encoder = try FeatureEncoder(frame: typed, features: plain)
        let dates = options.dateParts ? features.filter { $0.kind == .datetime }.map { DateParts(column: $0.name, frame: typed) } : []
        let differences = options.dateParts ? DateDifference.pairs(features.filter { $0.kind == .datetime }.map(\.name)) : []
        let levelValues = options.levelValues ? LevelValues.columns(typed, schema: schema).map { LevelValues(column: $0) } : []
        var encodings: [TargetEncoder] = []
        if let target {
            for column in features where column.kind == .categorical {
                guard case .categorical(let strings) = typed[column.name]!.values, strings.levels.count > options.targetEncodingAbove else { continue }
                encodings.append(TargetEncoder(column: column.name, strings: strings, target: target, smoothing: options.targetEncodingSmoothing))
            }
        }
        let texts = features.filter { $0.kind == .text }.map { HashedText(column: $0.name, frame: typed, buckets: options.textBuckets) }
        var names = encoder.names
        var sources = encoder.names
        for step in dates { names += step.featureNames; sources += Array(repeating: step.column, count: step.featureNames.count) }
        for step in differences { names.append(step.featureName); sources.append(step.to) }
        for step in levelValues { names.append(step.featureName); sources.append(step.column) }
        for step in encodings { names += step.featureNames; sources += Array(repeating: step.column, count: step.featureNames.count) }
        for step in texts { names += step.featureNames; sources += Array(repeating: step.column, count: step.featureNames.count) }
        let pipeline = Pipeline(encoder: encoder, dateParts: dates, dateDifferences: differences, levelValues: levelValues,
                                targetEncodings: encodings, texts: texts, featureNames: names, sources: sources)
        return (pipeline, try pipeline.transform(typed, outOfFoldTarget: target, options: options))
    }

    init(encoder: FeatureEncoder, dateParts: [DateParts], dateDifferences: [DateDifference], levelValues: [LevelValues],
         targetEncodings: [TargetEncoder], texts: [HashedText], featureNames: [String], sources: [String]) {
        (self.encoder, self.dateParts, self.dateDifferences, self.levelValues) = (encoder, dateParts, dateDifferences, levelValues)
        self.targetEncodings = targetEncodings
        (self.texts, self.featureNames, self.sources) = (texts, featureNames, sources)
    }

    private enum CodingKeys: String, CodingKey {
        case encoder, dateParts, dateDifferences, levelValues, targetEncodings, texts, featureNames, sources
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        encoder = try c.decode(FeatureEncoder.self, forKey: .encoder)
        dateParts = try c.decode([DateParts].self, forKey: .dateParts)
        dateDifferences = try c.decodeIfPresent([DateDifference].self, forKey: .dateDifferences) ?? []
        levelValues = try c.decodeIfPresent([LevelValues].self, forKey: .levelValues) ?? []
        targetEncodings = try c.decode([TargetEncoder].self, forKey: .targetEncodings)
        texts = try c.decode([HashedText].self, forKey: .texts)
        featureNames = try c.decode([String].self, forKey: .featureNames)
        sources = try c.decode([String].self, forKey: .sources)
    }

    /// Features for new rows. Columns may come in any order; extra columns are ignored.
    public func transform(_ frame: Frame) throws -> FeatureMatrix {
        try transform(frame, outOfFoldTarget: nil, options: nil)
    }

    private func transform(_ frame: Frame, outOfFoldTarget: TargetEncoding?, options: PipelineOptions?) throws -> FeatureMatrix {
        let base = try encoder.encode(frame)
        var values = base.values
        var kinds = base.kinds
        let n = frame.rowCount
        for step in dateParts {
            values += try step.transform(frame)
            kinds += Array(repeating: .numeric, count: step.featureNames.count)
        }
        for step in dateDifferences {
            values += try step.transform(frame)
            kinds.append(.numeric)
        }
        for step in levelValues {
            values += try step.transform(frame)
            kinds.append(.numeric)
        }
        for step in targetEncodings {
            if let target = outOfFoldTarget, let options {
                values += try step.outOfFold(frame, target: target, folds: options.targetEncodingFolds, seed: options.seed)
            } else {
                values += try step.transform(frame)
            }
            kinds += Array(repeating: .numeric, count: step.featureNames.count)
        }
        for step in texts {
            values += try step.transform(frame)
            kinds += Array(repeating: .numeric, count: step.featureNames.count)
        }
        return FeatureMatrix(rowCount: n, kinds: kinds, values: values)
    }
}

/// Year, month, day of month, day of week (0 = Monday), hour and whole days elapsed since the earliest
/// training date.
public struct DateParts: Codable, Sendable, Equatable {
    public let column: String
    public let origin: Double
    /// Which parts: nil (artefacts from before revision 2) gives year, month, weekday, hour and fractional
    /// elapsed days. Revision 2 counts elapsed days whole, since a timestamp to the second is nearly unique
    /// per row and trees cut it into windows that fit single outliers (the hour is a part of its own), and
    /// adds the day of the month (month-end and payday effects). The measurements behind both are in
    /// bench/RESULTS.md, "Evidence behind search and feature rules".
    public let revision: Int?

    static let currentRevision = 2

    init(column: String, frame: Frame) {
        self.column = column
        if case .datetime(let v) = frame[column]!.values { origin = v.filter { !$0.isNaN }.min() ?? 0 } else { origin = 0 }
        revision = Self.currentRevision
    }

    private enum Part: String { case year, month, day, weekday, hour, days }

    /// Revision 2 or later: whole elapsed days and the day of the month.
    private var revised: Bool { (revision ?? 1) >= 2 }

    private var parts: [Part] {
        revised ? [.year, .month, .day, .weekday, .hour, .days] : [.year, .month, .weekday, .hour, .days]
    }

    var featureNames: [String] { parts.map { "\(column).\($0.rawValue)" } }

    /// A datetime column's values as seconds since 1970 (NaN when missing), converting text if need be.
    static func seconds(_ frame: Frame, column name: String) throws -> [Double] {
        guard let column = frame[name] else { throw LearnError.schemaMismatch("feature column '\(name)' is missing from the data") }
        if case .datetime(let v) = column.values { return v }
        guard case .datetime(let v) = try column.converted(to: .datetime).values else { return [Double](repeating: .nan, count: frame.rowCount) }
        return v
    }

    func transform(_ frame: Frame) throws -> [Double] {
        let seconds = try Self.seconds(frame, column: column)
        let n = seconds.count
        let parts = parts
        let wholeDays = revised
        var out = [Double](repeating: .nan, count: n * parts.count)
        for (i, s) in seconds.enumerated() where !s.isNaN {
            let days = (s / 86_400).rounded(.down)
            let (year, month, day) = DateTimeParser.civilFromDays(Int(days))
            let elapsed = (s - origin) / 86_400
            for (p, part) in parts.enumerated() {
                out[p * n + i] = switch part {
                case .year: Double(year)
                case .month: Double(month)
                case .day: Double(day)
                case .weekday: Double(((Int(days) + 3) % 7 + 7) % 7)
                case .hour: ((s - days * 86_400) / 3600).rounded(.down)
                case .days: wholeDays ? elapsed.rounded(.down) : elapsed
                }
            }
        }
        return out
    }
}

/// The time from one datetime column to another, in hours: a trip's duration from its pickup and dropoff,
/// a delay from a due and a paid date. Trees cannot subtract one input from another, and the difference is
/// often what the target follows. Explanations count it towards the later column (`to`).
public struct DateDifference: Codable, Sendable, Equatable {
    public let from: String
    public let to: String

    /// Every pair of the first four datetime columns, in schema order (at most six features).
    static func pairs(_ columns: [String]) -> [DateDifference] {
        let first = Array(columns.prefix(4))
        return first.indices.flatMap { i in first.indices.filter { $0 > i }.map { DateDifference(from: first[i], to: first[$0]) } }
    }

    var featureName: String { "\(to) - \(from).hours" }

    func transform(_ frame: Frame) throws -> [Double] {
        let start = try DateParts.seconds(frame, column: from)
        let end = try DateParts.seconds(frame, column: to)
        return zip(start, end).map { ($1 - $0) / 3600 }
    }
}

/// A categorical column whose levels are all numbers (codes such as 1–3 or 0.0–6.0, which schema inference
/// reads as categories), also as its value. Trees can then cut it at a threshold and group neighbouring
/// codes, which category splits cannot do on small data: below five levels they split one level against the
/// rest, above it they need groups of 100 rows (LightGBM's rules). Values help where codes are ordered and
/// data small, and not everywhere (bench/RESULTS.md, "Evidence behind search and feature rules"), so the
/// search decides by a probe.
/// Unseen levels that are numbers still get their value; other text is missing.
public struct LevelValues: Codable, Sendable, Equatable {
    public let column: String

    var featureName: String { "\(column).value" }

    init(column: String) { self.column = column }

    /// The categorical features of `frame` (typed by `schema`) whose levels are all finite numbers.
    public static func columns(_ frame: Frame, schema: Schema) -> [String] {
        schema.columns(withRole: .feature).filter { $0.kind == .categorical }.compactMap { column in
            guard case .categorical(let strings)? = frame[column.name]?.values, !strings.levels.isEmpty,
                  strings.levels.allSatisfy({ number($0) != nil }) else { return nil }
            return column.name
        }
    }

    func transform(_ frame: Frame) throws -> [Double] {
        guard let column = frame[self.column] else { throw LearnError.schemaMismatch("feature column '\(self.column)' is missing from the data") }
        guard case .categorical(let strings) = try column.converted(to: .categorical).values else {
            return [Double](repeating: .nan, count: frame.rowCount)
        }
        let byCode = strings.levels.map { Self.number($0) ?? .nan }
        return strings.codes.map { $0 == EncodedStrings.missing ? .nan : byCode[Int($0)] }
    }

    /// A level's value, when it is a finite number.
    private static func number(_ level: String) -> Double? { Double(level).flatMap { $0.isFinite ? $0 : nil } }
}

/// Text as hashed TF-IDF: lower-cased word tokens hashed into `buckets` (FNV-1a), term frequencies weighted
/// by inverse document frequency learned on training rows, each row scaled to unit length.
public struct HashedText: Codable, Sendable, Equatable {
    public let column: String
    public let idf: [Double]

    init(column: String, frame: Frame, buckets: Int) {
        self.column = column
        var documents = [Double](repeating: 0, count: buckets)
        var rows = 0.0
        if let c = frame[column] {
            for row in 0..<c.count {
                rows += 1
                for bucket in Set(Self.buckets(c.displayValue(at: row) ?? "", count: buckets)) { documents[bucket] += 1 }
            }
        }
        idf = documents.map { log((1 + rows) / (1 + $0)) + 1 }
    }

    var featureNames: [String] { idf.indices.map { "\(column).token_\($0)" } }

    static func buckets(_ text: String, count: Int) -> [Int] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map { token in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in token.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return Int(h % UInt64(count))
        }
    }

    func transform(_ frame: Frame) throws -> [Double] {
        guard let c = frame[column] else { throw LearnError.schemaMismatch("feature column '\(column)' is missing from the data") }
        let n = c.count
        var out = [Double](repeating: 0, count: n * idf.count)
        // Sums in bucket order: a dictionary's order changes from one process to the next, and with it the
        // rounding of the norm, which made two runs with the same seed differ.
        var weights = [Double](repeating: 0, count: idf.count)
        for row in 0..<n {
            let touched = Self.buckets(c.displayValue(at: row) ?? "", count: idf.count)
            for bucket in touched { weights[bucket] += idf[bucket] }
            let distinct = Set(touched).sorted()
            let norm = distinct.reduce(0) { $0 + weights[$1] * weights[$1] }.squareRoot()
            for bucket in distinct {
                if norm > 0 { out[bucket * n + row] = weights[bucket] / norm }
                weights[bucket] = 0
            }
        }
        return out
    }
}

/// Sample weights that give each class the same total weight (scikit-learn's `class_weight="balanced"`:
/// n / (k · count of the class)), optionally multiplied into existing weights.
public enum ClassWeights {
    public static func balanced(_ target: TargetEncoding, weights: [Double]? = nil) -> [Double] {
        let k = target.classCount
        var counts = [Double](repeating: 0, count: k)
        for y in target.values { counts[Int(y)] += 1 }
        let n = Double(target.values.count)
        return target.values.enumerated().map { i, y in n / (Double(k) * counts[Int(y)]) * (weights?[i] ?? 1) }
    }
}
