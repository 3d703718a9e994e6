import KeelData
import KeelLearn

#if canImport(Glibc)
import Glibc
#endif

/// Seeded tables with known structure for learner tests: three numeric features (one with 10% missing
/// values whose missingness itself carries signal) and one categorical feature with 12 levels, of which
/// a set of four raises the outcome.
public struct SyntheticTable: Sendable {
    public let features: FeatureMatrix
    public let margin: [Double]

    public init(rows: Int, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        var values = [Double](repeating: 0, count: rows * 4)
        var margin = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            let a = g.nextUnit() * 4 - 2
            let b = g.nextUnit() * 4 - 2
            let c = g.nextUnit() < 0.1 ? Double.nan : g.nextUnit()
            let level = Double(g.next(below: 12))
            values[i] = a
            values[rows + i] = b
            values[2 * rows + i] = c
            values[3 * rows + i] = level
            margin[i] = 1.5 * a - b * b / 2 + (c.isNaN ? 1.2 : c) + ([1, 4, 7, 10].contains(Int(level)) ? 1.0 : -0.5)
        }
        features = FeatureMatrix(rowCount: rows, kinds: [.numeric, .numeric, .numeric, .categorical], values: values)
        self.margin = margin
    }

    /// Binary labels drawn from the logistic of the margin.
    public func binaryTarget(seed: UInt64) -> TargetEncoding {
        var g = SeededGenerator(seed: seed)
        let labels = margin.map { g.nextUnit() < 1 / (1 + exp(-$0)) ? 1.0 : 0.0 }
        return TargetEncoding(task: LearningTask(kind: .binary, classes: ["0", "1"], positiveClass: "1"), values: labels)
    }

    /// Regression values: the margin plus Gaussian-ish noise.
    public func regressionTarget(seed: UInt64, noise: Double = 0.3) -> TargetEncoding {
        var g = SeededGenerator(seed: seed)
        let values = margin.map { $0 + noise * (g.nextUnit() + g.nextUnit() + g.nextUnit() - 1.5) }
        return TargetEncoding(task: LearningTask(kind: .regression), values: values)
    }

    /// Three classes by thresholds on the margin.
    public func multiclassTarget() -> TargetEncoding {
        let values = margin.map { $0 < -0.5 ? 0.0 : ($0 < 1 ? 1.0 : 2.0) }
        return TargetEncoding(task: LearningTask(kind: .multiclass, classes: ["low", "mid", "high"]), values: values)
    }
}
