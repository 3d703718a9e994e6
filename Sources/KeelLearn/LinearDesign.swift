/// The design matrix of a linear model: numeric features standardised (mean 0, variance 1, missing values
/// at the mean), categorical features one-hot encoded over their most frequent levels (others and missing:
/// all zeros) and standardised the same way, so that one penalty treats every column alike.
public struct LinearDesign: Codable, Sendable, Equatable {
    public struct Term: Codable, Sendable, Equatable {
        /// The input feature this design column comes from.
        public var feature: Int
        /// The level code for a one-hot column; nil for a numeric feature.
        public var level: Int?
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
                var sum = 0.0, present = 0.0
                for i in 0..<n where !matrix.values[base + i].isNaN { sum += matrix.values[base + i] * (weights?[i] ?? 1); present += weights?[i] ?? 1 }
                let mean = present > 0 ? sum / present : 0
                var squares = 0.0
                for i in 0..<n {
                    let v = matrix.values[base + i]
                    let d = (v.isNaN ? mean : v) - mean
                    squares += d * d * (weights?[i] ?? 1)
                }
                let scale = (squares / total).squareRoot()
                terms.append(Term(feature: feature, level: nil, mean: mean, scale: scale > 0 ? scale : 1))
            case .categorical:
                var counts: [Int: Double] = [:]
                for i in 0..<n where !matrix.values[base + i].isNaN { counts[Int(matrix.values[base + i]), default: 0] += weights?[i] ?? 1 }
                let levels = counts.keys.sorted { counts[$0]! != counts[$1]! ? counts[$0]! > counts[$1]! : $0 < $1 }.prefix(maxLevels)
                for level in levels.sorted() {
                    let share = counts[level]! / total
                    let scale = (share * (1 - share)).squareRoot()
                    terms.append(Term(feature: feature, level: level, mean: share, scale: scale > 0 ? scale : 1))
                }
            }
        }
        self.terms = terms
        featureKinds = matrix.kinds
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
                let raw: Double = if let level = term.level { !v.isNaN && Int(v) == level ? 1 : 0 } else { v.isNaN ? term.mean : v }
                design[j * n + i] = (raw - term.mean) / term.scale
            }
        }
        return design
    }
}
