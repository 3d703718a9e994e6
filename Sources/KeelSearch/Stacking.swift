import Foundation
import KeelData
import KeelLearn

/// A stacked second layer: a linear model over the members' out-of-fold margins, with non-negative weights
/// and an intercept (logistic for binary tasks, least squares for regression). Being linear in the margins,
/// the stack stays an ensemble in margin space, so its explanations remain exactly additive.
///
/// Its score is cross-validated on the out-of-fold margins themselves (the meta-model never scores rows it
/// was fitted on), since scoring a stack on the rows that fitted it is the optimism stacking is known for.
enum Stacking {
    struct Fit {
        var weights: [Double]
        var intercept: Double
    }

    /// Fits the meta-model on `margins[member][row]` against `truth` (0/1 for binary, values for regression).
    static func fit(_ margins: [[Double]], truth: [Double], binary: Bool, l2: Double = 1e-3) -> Fit {
        let m = margins.count, n = truth.count
        var weights = [Double](repeating: 1 / Double(m), count: m)
        var intercept = binary ? 0 : truth.reduce(0, +) / Double(max(n, 1)) - margins.map { $0.reduce(0, +) / Double(max(n, 1)) }.reduce(0, +) / Double(m)
        var eta = [Double](repeating: 0, count: n)
        var working = [Double](repeating: 1, count: n)
        var target = truth
        // Iteratively reweighted least squares for the logistic case (one pass suffices for least squares),
        // each step a non-negative coordinate descent on the weighted problem.
        for _ in 0..<(binary ? 25 : 1) {
            for i in 0..<n { eta[i] = intercept + (0..<m).reduce(0) { $0 + weights[$1] * margins[$1][i] } }
            if binary {
                for i in 0..<n {
                    let p = min(max(1 / (1 + exp(-eta[i])), 1e-6), 1 - 1e-6)
                    working[i] = p * (1 - p)
                    target[i] = eta[i] + (truth[i] - p) / working[i]
                }
            }
            var residual = (0..<n).map { target[$0] - eta[$0] }
            let totalWeight = working.reduce(0, +)
            for _ in 0..<50 {
                var moved = 0.0
                let shift = (0..<n).reduce(0) { $0 + working[$1] * residual[$1] } / totalWeight
                intercept += shift
                for i in 0..<n { residual[i] -= shift }
                for j in 0..<m {
                    var numerator = 0.0, denominator = l2 * Double(n)
                    for i in 0..<n {
                        numerator += working[i] * margins[j][i] * (residual[i] + weights[j] * margins[j][i])
                        denominator += working[i] * margins[j][i] * margins[j][i]
                    }
                    let updated = denominator > 0 ? max(0, numerator / denominator) : 0
                    let delta = updated - weights[j]
                    if delta != 0 {
                        for i in 0..<n { residual[i] -= delta * margins[j][i] }
                        weights[j] = updated
                        moved = max(moved, abs(delta))
                    }
                }
                if moved < 1e-9 && abs(shift) < 1e-9 { break }
            }
        }
        return Fit(weights: weights, intercept: intercept)
    }

    /// The stack's own out-of-fold margins: each fifth of the rows scored by a meta-model fitted on the rest.
    static func crossValidatedMargins(_ margins: [[Double]], truth: [Double], binary: Bool, seed: UInt64) throws -> [Double] {
        let n = truth.count
        let labels: [UInt32]? = binary ? truth.map { UInt32($0) } : nil
        var stacked = [Double](repeating: .nan, count: n)
        for fold in try Splits.kFold(rows: n, k: 5, seed: seed, stratifyBy: labels) {
            let fit = self.fit(margins.map { column in fold.train.map { column[$0] } }, truth: fold.train.map { truth[$0] }, binary: binary)
            for row in fold.validation {
                stacked[row] = fit.intercept + (0..<margins.count).reduce(0) { $0 + fit.weights[$1] * margins[$1][row] }
            }
        }
        return stacked
    }
}
