#if canImport(Glibc)
import Glibc
#endif

/// The loss a booster minimises, with its gradients, hessians and starting score (as LightGBM's objectives).
public enum Objective: String, Codable, Sendable, CaseIterable {
    /// Log loss on the log-odds of the positive class.
    case binary
    /// Softmax cross-entropy, one tree per class and round; hessians scaled by k / (k − 1) as LightGBM does.
    case multiclass
    /// Squared error.
    case l2
    /// Absolute error; leaf outputs are refitted to the weighted median residual.
    case l1
    /// Huber loss with threshold `huberDelta`.
    case huber

    /// Raw scores before any tree: log-odds of the mean, log class priors, the mean or the median.
    func initialScores(_ y: [Double], weights: [Double]?, classCount: Int) -> [Double] {
        let total = weights?.reduce(0, +) ?? Double(y.count)
        switch self {
        case .binary:
            var positive = 0.0
            for (i, label) in y.enumerated() where label == 1 { positive += weights?[i] ?? 1 }
            let p = min(max(positive / total, 1e-15), 1 - 1e-15)
            return [log(p / (1 - p))]
        case .multiclass:
            var counts = [Double](repeating: 0, count: classCount)
            for (i, label) in y.enumerated() { counts[Int(label)] += weights?[i] ?? 1 }
            return counts.map { log(max($0 / total, 1e-15)) }
        case .l2, .huber:
            var sum = 0.0
            for (i, value) in y.enumerated() { sum += value * (weights?[i] ?? 1) }
            return [sum / total]
        case .l1:
            return [WeightedMedian.of(Array(y.indices), values: { y[$0] }, weights: weights)]
        }
    }

    /// Fills gradients and hessians (class-major, `classCount * n`) for the current raw scores (same layout).
    func gradients(scores: UnsafePointer<Double>, y: UnsafePointer<Double>, weights: UnsafePointer<Double>?, rows n: Int,
                   classCount: Int, huberDelta: Double,
                   gradients g: UnsafeMutablePointer<GradientValue>, hessians h: UnsafeMutablePointer<GradientValue>) {
        let chunks = Parallel.chunks(n, minimum: 8192)
        let (gOut, hOut) = (SharedBuffer(base: g), SharedBuffer(base: h))
        Parallel.forEach(chunks.count) { c in
            for i in chunks[c] {
                let w = weights?[i] ?? 1
                switch self {
                case .binary:
                    let p = 1 / (1 + exp(-scores[i]))
                    gOut[i] = GradientValue((p - y[i]) * w)
                    hOut[i] = GradientValue(max(p * (1 - p), 1e-16) * w)
                case .multiclass:
                    var maximum = -Double.infinity
                    for k in 0..<classCount { maximum = max(maximum, scores[k * n + i]) }
                    var sum = 0.0
                    for k in 0..<classCount { sum += exp(scores[k * n + i] - maximum) }
                    let factor = Double(classCount) / Double(classCount - 1)
                    for k in 0..<classCount {
                        let p = exp(scores[k * n + i] - maximum) / sum
                        let target = Int(y[i]) == k ? 1.0 : 0.0
                        gOut[k * n + i] = GradientValue((p - target) * w)
                        hOut[k * n + i] = GradientValue(max(factor * p * (1 - p), 1e-16) * w)
                    }
                case .l2:
                    gOut[i] = GradientValue((scores[i] - y[i]) * w)
                    hOut[i] = GradientValue(w)
                case .l1:
                    let r = scores[i] - y[i]
                    gOut[i] = GradientValue((r > 0 ? 1 : (r < 0 ? -1 : 0)) * w)
                    hOut[i] = GradientValue(w)
                case .huber:
                    let r = scores[i] - y[i]
                    gOut[i] = GradientValue((abs(r) <= huberDelta ? r : (r > 0 ? huberDelta : -huberDelta)) * w)
                    hOut[i] = GradientValue(w)
                }
            }
        }
    }

    /// The loss that early stopping watches (mean log loss, RMSE, MAE or Huber loss; lower is better).
    func loss(scores: [Double], y: [Double], rows n: Int, classCount: Int, huberDelta: Double) -> Double {
        var total = 0.0
        for i in 0..<n {
            switch self {
            case .binary:
                let p = min(max(1 / (1 + exp(-scores[i])), 1e-15), 1 - 1e-15)
                total -= y[i] == 1 ? log(p) : log(1 - p)
            case .multiclass:
                var maximum = -Double.infinity
                for k in 0..<classCount { maximum = max(maximum, scores[k * n + i]) }
                var sum = 0.0
                for k in 0..<classCount { sum += exp(scores[k * n + i] - maximum) }
                total -= scores[Int(y[i]) * n + i] - maximum - log(sum)
            case .l2:
                total += (scores[i] - y[i]) * (scores[i] - y[i])
            case .l1:
                total += abs(scores[i] - y[i])
            case .huber:
                let r = abs(scores[i] - y[i])
                total += r <= huberDelta ? r * r / 2 : huberDelta * (r - huberDelta / 2)
            }
        }
        let mean = total / Double(max(n, 1))
        return self == .l2 ? mean.squareRoot() : mean
    }
}

enum WeightedMedian {
    /// The weighted median of `values(i)` over `indices` (the lower one on a tie, as LightGBM's percentile).
    static func of(_ indices: [Int], values: (Int) -> Double, weights: [Double]?) -> Double {
        guard !indices.isEmpty else { return 0 }
        let sorted = indices.sorted { values($0) < values($1) }
        let total = indices.reduce(0.0) { $0 + (weights?[$1] ?? 1) }
        var running = 0.0
        for i in sorted {
            running += weights?[i] ?? 1
            if running >= total / 2 { return values(i) }
        }
        return values(sorted.last!)
    }
}
