import KeelData
#if canImport(Glibc)
import Glibc
#endif

/// Evaluation metrics, named as on the command line, with scikit-learn's definitions.
///
/// `truth` holds class indices (classification) or values (regression). `predictions` holds, row-major,
/// one probability per class for classifiers (both classes for binary) or one value for regressors.
public enum Metric: String, Codable, Sendable, CaseIterable {
    case accuracy
    case balancedAccuracy = "balanced_accuracy"
    case logLoss = "log_loss"
    case rocAUC = "roc_auc"
    case prAUC = "pr_auc"
    case f1Macro = "f1_macro"
    case brier
    case rmse, mae, r2

    public var higherIsBetter: Bool {
        switch self {
        case .accuracy, .balancedAccuracy, .rocAUC, .prAUC, .f1Macro, .r2: true
        case .logLoss, .brier, .rmse, .mae: false
        }
    }

    public var isRegression: Bool { self == .rmse || self == .mae || self == .r2 }

    /// The default metric of a task: ROC AUC (binary), log loss (multiclass), RMSE (regression).
    public static func defaultFor(_ task: TaskKind) -> Metric {
        switch task {
        case .binary: .rocAUC
        case .multiclass: .logLoss
        case .regression: .rmse
        }
    }

    /// - Throws: `LearnError.invalidData` when shapes disagree or the metric does not fit the task.
    public func evaluate(truth: [Double], predictions: [Double], classCount: Int) throws -> Double {
        let n = truth.count
        guard n > 0 else { throw LearnError.invalidData("cannot compute \(rawValue) on zero rows") }
        if isRegression {
            guard predictions.count == n else { throw LearnError.invalidData("\(predictions.count) predictions for \(n) rows") }
            return regression(truth, predictions)
        }
        guard classCount >= 2, predictions.count == n * classCount else {
            throw LearnError.invalidData("\(rawValue) needs \(classCount) probabilities per row, got \(predictions.count) for \(n) rows")
        }
        return try classification(truth.map(Int.init), predictions, classCount)
    }

    private func regression(_ y: [Double], _ p: [Double]) -> Double {
        let n = Double(y.count)
        switch self {
        case .rmse: return (zip(y, p).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / n).squareRoot()
        case .mae: return zip(y, p).reduce(0) { $0 + abs($1.0 - $1.1) } / n
        default:
            let mean = y.reduce(0, +) / n
            let residual = zip(y, p).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            let total = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            return total == 0 ? (residual == 0 ? 1 : 0) : 1 - residual / total
        }
    }

    private func classification(_ y: [Int], _ p: [Double], _ k: Int) throws -> Double {
        let n = y.count
        let predicted = (0..<n).map { row in (0..<k).max { p[row * k + $0] < p[row * k + $1] }! }
        switch self {
        case .accuracy:
            return Double(zip(y, predicted).filter { $0 == $1 }.count) / Double(n)
        case .balancedAccuracy:
            let present = Set(y).sorted()
            let recalls = present.map { c in
                Double((0..<n).filter { y[$0] == c && predicted[$0] == c }.count) / Double(y.filter { $0 == c }.count)
            }
            return recalls.reduce(0, +) / Double(recalls.count)
        case .logLoss:
            let eps = Double.ulpOfOne
            var total = 0.0
            for row in 0..<n {
                var sum = 0.0
                for c in 0..<k { sum += p[row * k + c] }
                total -= log(min(max(p[row * k + y[row]] / sum, eps), 1 - eps))
            }
            return total / Double(n)
        case .rocAUC:
            if k == 2 { return try Self.binaryAUC(y.map { $0 == 1 }, (0..<n).map { p[$0 * 2 + 1] }) }
            let present = Set(y).sorted()
            guard present.count == k else { throw LearnError.invalidData("roc_auc needs every class in the truth; some are absent") }
            return try present.map { c in try Self.binaryAUC(y.map { $0 == c }, (0..<n).map { p[$0 * k + c] }) }.reduce(0, +) / Double(k)
        case .prAUC:
            guard k == 2 else { throw LearnError.invalidData("pr_auc is defined for binary tasks") }
            return Self.averagePrecision(y.map { $0 == 1 }, (0..<n).map { p[$0 * 2 + 1] })
        case .f1Macro:
            let labels = Set(y).union(predicted).sorted()
            let scores = labels.map { c -> Double in
                let tp = Double((0..<n).filter { y[$0] == c && predicted[$0] == c }.count)
                let fp = Double((0..<n).filter { y[$0] != c && predicted[$0] == c }.count)
                let fn = Double((0..<n).filter { y[$0] == c && predicted[$0] != c }.count)
                return tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn)
            }
            return scores.reduce(0, +) / Double(scores.count)
        case .brier:
            var total = 0.0
            if k == 2 {
                for row in 0..<n { let d = p[row * 2 + 1] - (y[row] == 1 ? 1 : 0); total += d * d }
            } else {
                for row in 0..<n { for c in 0..<k { let d = p[row * k + c] - (y[row] == c ? 1 : 0); total += d * d } }
            }
            return total / Double(n)
        case .rmse, .mae, .r2:
            throw LearnError.invalidData("\(rawValue) is a regression metric")
        }
    }

    /// ROC AUC as the Mann–Whitney statistic with tied scores sharing their average rank (equal to the
    /// trapezoidal area under the ROC curve that scikit-learn computes).
    static func binaryAUC(_ positive: [Bool], _ scores: [Double]) throws -> Double {
        let positives = positive.filter { $0 }.count
        let negatives = positive.count - positives
        guard positives > 0, negatives > 0 else { throw LearnError.invalidData("roc_auc needs both classes in the truth") }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j) / 2 + 1
            for t in i...j where positive[order[t]] { rankSum += averageRank }
            i = j + 1
        }
        return (rankSum - Double(positives) * Double(positives + 1) / 2) / (Double(positives) * Double(negatives))
    }

    /// Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over descending distinct score thresholds (scikit-learn's definition).
    static func averagePrecision(_ positive: [Bool], _ scores: [Double]) -> Double {
        let totalPositives = Double(positive.filter { $0 }.count)
        guard totalPositives > 0 else { return 0 }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0.0, fp = 0.0, previousRecall = 0.0, area = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j < order.count, scores[order[j]] == scores[order[i]] {
                if positive[order[j]] { tp += 1 } else { fp += 1 }
                j += 1
            }
            let recall = tp / totalPositives
            area += (recall - previousRecall) * (tp / (tp + fp))
            previousRecall = recall
            i = j
        }
        return area
    }
}
