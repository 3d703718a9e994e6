/// The design matrix of a linear model, every column standardised (mean 0, variance 1) so that one penalty
/// treats them alike: numeric features with missing values imputed by the training median plus a
/// missing-indicator column when training had missing values; categorical features one-hot encoded over
/// their most frequent levels (missing values count as the most frequent level, other levels as none).
public struct LinearDesign: Codable, Sendable, Equatable {
    public struct Term: Codable, Sendable, Equatable {
        /// The input feature this design column comes from.
        public var feature: Int
        /// The level code for a one-hot column; nil for a numeric feature or an indicator.
        public var level: Int?
        /// True for the 0/1 column that marks a missing value of `feature`.
        public var indicatesMissing = false
        /// The value that stands in for a missing one: the median (numeric) or the most frequent level's code.
        public var fill: Double = 0
        public var mean: Double
        public var scale: Double
    }

    public let terms: [Term]
    public let featureKinds: [FeatureKind]

    /// Learns means, scales and levels from `matrix` (weighted when `weights` are given).
    public init(_ matrix: FeatureMatrix, weights: [Double]?, maxLevels: Int = 32) {
        var terms: [Term] = []
        let n = matrix.rowCount
        let total = weights?.reduce(0, +) ?? Double(n)
        for feature in 0..<matrix.featureCount {
            let base = feature * n
            switch matrix.kinds[feature] {
            case .numeric:
                let present = (0..<n).filter { !matrix.values[base + $0].isNaN }
                let median = WeightedMedian.of(present, values: { matrix.values[base + $0] }, weights: weights)
                let filled = (0..<n).map { matrix.values[base + $0].isNaN ? median : matrix.values[base + $0] }
                terms.append(Self.standardised(Term(feature: feature, level: nil, fill: median, mean: 0, scale: 1), filled, weights, total))
                if present.count < n {
                    let indicator = (0..<n).map { matrix.values[base + $0].isNaN ? 1.0 : 0.0 }
                    terms.append(Self.standardised(Term(feature: feature, level: nil, indicatesMissing: true, mean: 0, scale: 1), indicator, weights, total))
                }
            case .categorical:
                var counts: [Int: Double] = [:]
                for i in 0..<n where !matrix.values[base + i].isNaN { counts[Int(matrix.values[base + i]), default: 0] += weights?[i] ?? 1 }
                let ranked = counts.keys.sorted { counts[$0]! != counts[$1]! ? counts[$0]! > counts[$1]! : $0 < $1 }
                let mostFrequent = Double(ranked.first ?? 0)
                for level in ranked.prefix(maxLevels).sorted() {
                    let column = (0..<n).map { i -> Double in
                        let v = matrix.values[base + i]
                        return Int(v.isNaN ? mostFrequent : v) == level ? 1 : 0
                    }
                    terms.append(Self.standardised(Term(feature: feature, level: level, fill: mostFrequent, mean: 0, scale: 1), column, weights, total))
                }
            }
        }
        self.terms = terms
        featureKinds = matrix.kinds
    }

    /// The term with the weighted mean and population standard deviation of its raw column.
    private static func standardised(_ term: Term, _ column: [Double], _ weights: [Double]?, _ total: Double) -> Term {
        var result = term
        let mean = column.indices.reduce(0.0) { $0 + column[$1] * (weights?[$1] ?? 1) } / total
        let variance = column.indices.reduce(0.0) { $0 + (column[$1] - mean) * (column[$1] - mean) * (weights?[$1] ?? 1) } / total
        result.mean = mean
        result.scale = variance > 0 ? variance.squareRoot() : 1
        return result
    }

    public var columnCount: Int { terms.count }

    /// The standardised design, column-major (`columnCount` columns of `matrix.rowCount` rows).
    public func columns(_ matrix: FeatureMatrix) throws -> [Double] {
        guard matrix.kinds == featureKinds else {
            throw LearnError.schemaMismatch("the data has \(matrix.featureCount) features of kinds \(matrix.kinds); the model was trained on \(featureKinds.count)")
        }
        let n = matrix.rowCount
        var design = [Double](repeating: 0, count: n * terms.count)
        for (j, term) in terms.enumerated() {
            let source = term.feature * n
            for i in 0..<n {
                let v = matrix.values[source + i]
                let raw: Double
                if term.indicatesMissing {
                    raw = v.isNaN ? 1 : 0
                } else if let level = term.level {
                    raw = Int(v.isNaN ? term.fill : v) == level ? 1 : 0
                } else {
                    raw = v.isNaN ? term.fill : v
                }
                design[j * n + i] = (raw - term.mean) / term.scale
            }
        }
        return design
    }
}
