import Foundation
import KeelData

/// Where training data was dense and where it was sparse, per feature, from the model's reference profile:
/// for a value, about how many training rows had a value near it (numbers: within a bandwidth of it, from the
/// profile's sample scaled to all rows; levels: the level's count; missing: the missing count).
///
/// Two humility triggers read it. `low_density` fires when some feature's value had fewer than a given
/// number of training rows near it. `outlying` also uses the row's outlier score: the sum over features of
/// −log((rows near + 1) / (rows + 1)), a histogram-based outlier score (HBOS, Goldstein and Dengel 2012),
/// which treats features as independent: a row whose every value is common but whose combination is rare
/// scores low. Built once per loaded model; a lookup is a binary search per numeric feature.
public struct TrainingDensity: Sendable {
    struct Feature: Sendable {
        var name: String
        var missingWords: [String]?
        /// Rows of the reference column (missing included).
        var rows: Int
        var missing: Int
        /// Numbers: the sorted sample, how many rows each sampled value stands for, the half-width of the
        /// neighbourhood counted.
        var sorted: [Double]
        var rowsPerSample: Double
        var bandwidth: Double
        /// Levels: the count of each training level.
        var levels: [String: Int]
        var isNumeric: Bool
        /// Datetimes: neighbourhoods are said in days.
        var isDate = false
    }

    let features: [Feature]
    /// The training rows the profile describes; nil when unknown.
    public let trainingRows: Int?

    /// Nil when the model carries no reference profile (artefacts from before it existed).
    public init?(_ model: TrainedModel) {
        guard let profile = model.profile else { return nil }
        self.init(profile: profile, schema: model.schema)
    }

    public init(profile: ReferenceProfile, schema: Schema) {
        trainingRows = profile.rows > 0 ? profile.rows : nil
        let byName = Dictionary(profile.columns.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        features = schema.columns(withRole: .feature).compactMap { column in
            guard let reference = byName[column.name], reference.count > 0 else { return nil }
            switch reference.kind {
            case .numeric:
                let sorted = reference.sample.sorted()
                let present = reference.count - reference.missing
                return Feature(name: column.name, missingWords: column.missingWords, rows: reference.count, missing: reference.missing,
                               sorted: sorted, rowsPerSample: sorted.isEmpty ? 0 : Double(present) / Double(sorted.count),
                               bandwidth: Self.bandwidth(sorted), levels: [:], isNumeric: true, isDate: column.kind == .datetime)
            case .categorical:
                return Feature(name: column.name, missingWords: column.missingWords, rows: reference.count, missing: reference.missing,
                               sorted: [], rowsPerSample: 0, bandwidth: 0,
                               levels: Dictionary(zip(reference.levels, reference.levelCounts).map { ($0, $1) }, uniquingKeysWith: +), isNumeric: false)
            }
        }
    }

    /// Silverman's rule of thumb, 0.9 · min(sd, IQR / 1.34) · m^(−1/5), on the sorted sample; 0 for a
    /// constant or empty sample (then only equal values count as near).
    public static func bandwidth(_ sorted: [Double]) -> Double {
        let m = sorted.count
        guard m > 1, let first = sorted.first, let last = sorted.last, last > first else { return 0 }
        let mean = sorted.reduce(0, +) / Double(m)
        let sd = (sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(m - 1)).squareRoot()
        let iqr = sorted[(3 * m) / 4] - sorted[m / 4]
        let spread = iqr > 0 ? min(sd, iqr / 1.34) : sd
        return 0.9 * spread * pow(Double(m), -0.2)
    }

    /// One feature's value in one row and the training rows near it.
    public struct Neighbourhood: Sendable, Equatable {
        public var feature: String
        /// The value as written ("missing" for a missing one).
        public var value: String
        /// About how many training rows had a value near it.
        public var rows: Double
        /// Of how many training rows.
        public var of: Int
        /// Numbers: the half-width counted around the value (0: equal values only); nil for levels.
        public var within: Double?
        /// True when the value is a date and `within` is in seconds.
        public var isDate = false
    }

    /// The training rows near each row's value of each profiled feature, row-major (`rowCount × featureCount`);
    /// features absent from the frame count as missing. No strings are made: `describe` makes them for the
    /// few cells a reason names.
    public func nearRows(_ frame: Frame) -> [Double] {
        let k = features.count
        var near = [Double](repeating: 0, count: frame.rowCount * k)
        for (f, feature) in features.enumerated() {
            guard let column = frame[feature.name]?.readingWordsAsMissing(feature.missingWords) else {
                for row in 0..<frame.rowCount { near[row * k + f] = Double(feature.missing) }
                continue
            }
            switch column.values {
            case .categorical(let strings), .text(let strings):
                // Each distinct value is looked up once, not once per row.
                let byCode = strings.levels.map { levelRows(feature, $0) }
                for (row, code) in strings.codes.enumerated() {
                    near[row * k + f] = code == EncodedStrings.missing ? Double(feature.missing) : byCode[Int(code)]
                }
            default:
                for row in 0..<frame.rowCount { near[row * k + f] = lookup(feature, column, row).rows }
            }
        }
        return near
    }

    public var featureCount: Int { features.count }

    /// The neighbourhood of feature number `f` (in `nearRows`' order) in `row` of `frame`, in words' terms.
    public func describe(_ frame: Frame, row: Int, feature f: Int) -> Neighbourhood {
        let feature = features[f]
        guard let column = frame[feature.name]?.readingWordsAsMissing(feature.missingWords) else {
            return Neighbourhood(feature: feature.name, value: "missing", rows: Double(feature.missing), of: feature.rows, within: nil)
        }
        let found = lookup(feature, column, row)
        let isLevel = found.level != nil || found.missing
        return Neighbourhood(feature: feature.name,
                             value: found.missing ? "missing" : found.level ?? column.displayValue(at: row) ?? "",
                             rows: found.rows, of: feature.rows, within: isLevel ? nil : feature.bandwidth, isDate: feature.isDate)
    }

    /// The rows near one cell; `level` is set when the feature is counted by level.
    private func lookup(_ feature: Feature, _ column: Column, _ row: Int) -> (rows: Double, level: String?, missing: Bool) {
        let missing = (rows: Double(feature.missing), level: String?.none, missing: true)
        var number = Double.nan
        switch column.values {
        case .numeric(let v), .datetime(let v):
            if v[row].isNaN { return missing }
            if feature.isNumeric { number = v[row] } else {
                let level = NumberFormatting.canonical(v[row])
                return (Double(feature.levels[level] ?? 0), level, false)
            }
        case .boolean(let flags):
            if flags[row] == Column.missingBoolean { return missing }
            if feature.isNumeric { number = flags[row] == 1 ? 1 : 0 } else {
                let level = flags[row] == 1 ? "true" : "false"
                return (Double(feature.levels[level] ?? 0), level, false)
            }
        case .categorical(let strings), .text(let strings):
            let code = strings.codes[row]
            if code == EncodedStrings.missing { return missing }
            let text = strings.levels[Int(code)]
            return (levelRows(feature, text), feature.isNumeric && Double(text.trimmingCharacters(in: .whitespaces)) != nil ? nil : text, false)
        }
        return (numberRows(feature, number), nil, false)
    }

    /// The rows near a value written as text: a level's count, or, for a numeric feature, the rows near the
    /// number it spells (none when it spells no number).
    private func levelRows(_ feature: Feature, _ text: String) -> Double {
        guard feature.isNumeric else { return Double(feature.levels[text] ?? 0) }
        guard let x = Double(text.trimmingCharacters(in: .whitespaces)) else { return 0 }
        return numberRows(feature, x)
    }

    /// The sampled training values within the bandwidth of `x`, scaled to all rows.
    private func numberRows(_ feature: Feature, _ x: Double) -> Double {
        let low = ReferenceColumn.bin(of: x - feature.bandwidth, edges: feature.sorted)
        let high = Self.firstIndex(feature.sorted, above: x + feature.bandwidth)
        return Double(high - low) * feature.rowsPerSample
    }

    /// The outlier score of each row: Σ over features of −log((rows near + 1) / (rows + 1)).
    public func outlierScores(_ frame: Frame) -> [Double] {
        outlierScores(nearRows: nearRows(frame), rowCount: frame.rowCount)
    }

    public func outlierScores(nearRows near: [Double], rowCount: Int) -> [Double] {
        let k = features.count
        let logTotals = features.map { log(Double($0.rows) + 1) }
        return (0..<rowCount).map { row in
            var score = 0.0
            for f in 0..<k { score += logTotals[f] - log(near[row * k + f] + 1) }
            return score
        }
    }

    private static func firstIndex(_ sorted: [Double], above x: Double) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] <= x { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
