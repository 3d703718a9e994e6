/// What the training data looked like, stored with the model so that monitoring can tell when production
/// data stops looking like it: per feature, binned distributions, level counts and missing rates, a bounded
/// random sample of raw values for exact two-sample tests, and the distribution of the model's predictions.
public struct ReferenceProfile: Codable, Sendable, Equatable {
    public static let defaultSampleSize = 10_000

    public var rows: Int
    public var columns: [ReferenceColumn]
    /// The predictions' distribution on held-out rows (the positive-class probability for binary models,
    /// the top probability for multiclass ones, the value for regression).
    public var predictions: ReferenceColumn?
    /// The outlier scores of held-out rows under `TrainingDensity` (humility's `outlying` trigger fires
    /// above their 99.5th percentile); nil in profiles from before they were kept.
    public var outlierScores: ReferenceColumn?

    public init(rows: Int, columns: [ReferenceColumn], predictions: ReferenceColumn?) {
        self.rows = rows
        self.columns = columns
        self.predictions = predictions
    }

    /// Profiles the feature columns of `frame` (numeric, datetime and boolean as numbers; categorical and
    /// text as levels). The sample is a seeded uniform sample without replacement.
    public static func make(frame: Frame, features: [String], sampleSize: Int = defaultSampleSize, seed: UInt64) -> ReferenceProfile {
        var columns: [ReferenceColumn] = []
        for (index, name) in features.enumerated() {
            guard let column = frame[name] else { continue }
            columns.append(ReferenceColumn(column, sampleSize: sampleSize, seed: SeedStream(seed).seed("column", index: index)))
        }
        return ReferenceProfile(rows: frame.rowCount, columns: columns, predictions: nil)
    }
}

/// One column's reference distribution.
public struct ReferenceColumn: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case numeric, categorical }

    public var name: String
    public var kind: Kind
    public var count: Int
    public var missing: Int
    /// Numeric: the inner bin edges (deciles of the reference, unique), so bin i holds values in
    /// (edges[i-1], edges[i]]; `binCounts` has one more entry than `edges`.
    public var edges: [Double]
    public var binCounts: [Int]
    public var minimum: Double?
    public var maximum: Double?
    public var mean: Double?
    public var standardDeviation: Double?
    /// Numeric: a uniform sample of the non-missing values (all of them when there are few).
    public var sample: [Double]
    /// Categorical: count per level, in order of first appearance.
    public var levels: [String]
    public var levelCounts: [Int]

    public var missingRate: Double { count > 0 ? Double(missing) / Double(count) : 0 }

    /// The reference of a numeric sequence (predictions, say) under `name`.
    public init(name: String, values: [Double], sampleSize: Int = ReferenceProfile.defaultSampleSize, seed: UInt64) {
        self.name = name
        kind = .numeric
        count = values.count
        let present = values.filter { !$0.isNaN }
        missing = values.count - present.count
        let sorted = present.sorted()
        (edges, binCounts) = Self.deciles(sorted)
        minimum = sorted.first
        maximum = sorted.last
        if !sorted.isEmpty {
            let m = sorted.reduce(0, +) / Double(sorted.count)
            mean = m
            standardDeviation = (sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(sorted.count - 1, 1))).squareRoot()
        }
        sample = Self.sample(present, size: sampleSize, seed: seed)
        levels = []
        levelCounts = []
    }

    public init(_ column: Column, sampleSize: Int, seed: UInt64) {
        switch column.values {
        case .numeric, .datetime, .boolean:
            self.init(name: column.name, values: column.numbers, sampleSize: sampleSize, seed: seed)
        case .categorical(let strings), .text(let strings):
            var counts = [Int](repeating: 0, count: strings.levels.count)
            var missing = 0
            for code in strings.codes {
                if code == EncodedStrings.missing { missing += 1 } else { counts[Int(code)] += 1 }
            }
            // Levels that never occur (left over from a row selection) say nothing about the distribution.
            let used = counts.indices.filter { counts[$0] > 0 }
            self.init(categorical: column.name, count: strings.codes.count, missing: missing,
                      levels: used.map { strings.levels[$0] }, levelCounts: used.map { counts[$0] })
        }
    }

    private init(categorical name: String, count: Int, missing: Int, levels: [String], levelCounts: [Int]) {
        self.name = name
        kind = .categorical
        self.count = count
        self.missing = missing
        self.levels = levels
        self.levelCounts = levelCounts
        edges = []
        binCounts = []
        sample = []
    }

    /// The bin of `value` among `edges` (NaN has no bin).
    public static func bin(of value: Double, edges: [Double]) -> Int {
        var low = 0, high = edges.count
        while low < high {
            let middle = (low + high) / 2
            if value <= edges[middle] { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Counts of `values` in the bins of `edges`, ignoring NaN.
    public static func counts(of values: [Double], edges: [Double]) -> [Int] {
        var counts = [Int](repeating: 0, count: edges.count + 1)
        for value in values where !value.isNaN { counts[bin(of: value, edges: edges)] += 1 }
        return counts
    }

    private static func deciles(_ sorted: [Double]) -> ([Double], [Int]) {
        guard !sorted.isEmpty else { return ([], [0]) }
        var edges: [Double] = []
        for k in 1..<10 {
            let edge = sorted[min(sorted.count - 1, (k * sorted.count) / 10)]
            if edge < sorted[sorted.count - 1], edges.last.map({ edge > $0 }) ?? true { edges.append(edge) }
        }
        return (edges, counts(of: sorted, edges: edges))
    }

    /// A seeded uniform sample of `size` values without replacement (all of them when there are fewer).
    public static func sample(_ values: [Double], size: Int = ReferenceProfile.defaultSampleSize, seed: UInt64) -> [Double] {
        guard values.count > size else { return values }
        var generator = SeededGenerator(seed: seed)
        var pool = values
        for i in 0..<size { pool.swapAt(i, i + generator.next(below: pool.count - i)) }
        return Array(pool[0..<size])
    }
}

extension Column {
    /// The values as numbers, NaN for missing: numbers and dates as stored, booleans as 0/1, text parsed
    /// where it is a number (a category spelled `3` compares with a numeric reference).
    public var numbers: [Double] {
        switch values {
        case .numeric(let values), .datetime(let values): values
        case .boolean(let bytes): bytes.map { $0 == Column.missingBoolean ? .nan : Double($0) }
        case .categorical, .text: (0..<count).map { row in displayValue(at: row).flatMap(Double.init) ?? .nan }
        }
    }
}
