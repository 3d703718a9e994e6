/// Summary statistics of one column, as a profile table shows them.
///
/// Numeric and datetime columns get min, max, mean, sample standard deviation (n − 1, as pandas) and
/// quantiles (linear interpolation, as numpy's default); categorical, text and boolean columns get the most
/// frequent levels. Infinite values are counted and left out of the moments and quantiles.
public struct ColumnStatistics: Sendable, Codable, Equatable {
    public struct LevelCount: Sendable, Codable, Equatable {
        public var level: String
        public var count: Int
    }

    public static let quantileProbabilities: [Double] = [0.01, 0.25, 0.5, 0.75, 0.99]

    public var count: Int
    public var missing: Int
    public var distinct: Int
    public var infinite: Int = 0
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    public var std: Double?
    /// Values at `quantileProbabilities`, when the column is numeric or datetime.
    public var quantiles: [Double]?
    /// Whether every present value is a whole number (numeric columns only).
    public var integral: Bool?
    /// The most frequent levels, most frequent first (ties in order of first appearance).
    public var topLevels: [LevelCount]?

    public init(_ column: Column, topLevelCount: Int = 5) {
        switch column.values {
        case .numeric(let values), .datetime(let values):
            self = Self.numeric(values)
        case .categorical(let strings), .text(let strings):
            self = Self.levels(strings.codes, levels: strings.levels, top: topLevelCount)
        case .boolean(let bytes):
            let codes = bytes.map { $0 == Column.missingBoolean ? EncodedStrings.missing : UInt32($0) }
            self = Self.levels(codes, levels: ["false", "true"], top: topLevelCount)
        }
    }

    private init(count: Int, missing: Int, distinct: Int) {
        self.count = count
        self.missing = missing
        self.distinct = distinct
    }

    private static func numeric(_ values: [Double]) -> ColumnStatistics {
        var finite = values.filter { $0.isFinite }
        let missing = values.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
        finite.sort()
        var distinct = 0
        var previous = Double.nan
        for value in finite where value != previous {
            distinct += 1
            previous = value
        }
        let infinite = values.count - missing - finite.count
        var stats = ColumnStatistics(count: values.count - missing, missing: missing, distinct: distinct + Swift.min(infinite, 2))
        stats.infinite = infinite
        stats.integral = finite.allSatisfy { $0 == $0.rounded() }
        guard !finite.isEmpty else { return stats }
        stats.min = finite.first
        stats.max = finite.last
        var sum = 0.0
        for value in finite { sum += value }
        let mean = sum / Double(finite.count)
        var squares = 0.0
        for value in finite { squares += (value - mean) * (value - mean) }
        stats.mean = mean
        stats.std = finite.count > 1 ? (squares / Double(finite.count - 1)).squareRoot() : nil
        stats.quantiles = quantileProbabilities.map { quantile(sorted: finite, $0) }
        return stats
    }

    /// numpy's default ("linear") quantile of sorted values.
    public static func quantile(sorted values: [Double], _ probability: Double) -> Double {
        let position = probability * Double(values.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, values.count - 1)
        let fraction = position - Double(lower)
        return values[lower] + (values[upper] - values[lower]) * fraction
    }

    private static func levels(_ codes: [UInt32], levels: [String], top: Int) -> ColumnStatistics {
        var counts = [Int](repeating: 0, count: levels.count)
        var missing = 0
        for code in codes {
            if code == EncodedStrings.missing { missing += 1 } else { counts[Int(code)] += 1 }
        }
        var stats = ColumnStatistics(count: codes.count - missing, missing: missing, distinct: counts.filter { $0 > 0 }.count)
        let order = counts.indices.filter { counts[$0] > 0 }.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
        stats.topLevels = order.prefix(top).map { LevelCount(level: levels[$0], count: counts[$0]) }
        return stats
    }
}
