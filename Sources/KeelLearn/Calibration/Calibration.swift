import Foundation

/// A map from a classifier's margins to calibrated probabilities, fitted on out-of-fold margins so that it
/// never sees the rows it is judged on.
///
/// - Platt scaling (Platt 1999): a logistic regression on the margin, with Platt's smoothed targets
///   (N₊+1)/(N₊+2) and 1/(N₋+2), as scikit-learn's `CalibratedClassifierCV(method="sigmoid")` fits it.
/// - Isotonic regression (Zadrozny and Elkan 2002): the pool-adjacent-violators fit of the labels on the
///   margin order, interpolated linearly between block centres and clipped at the ends, as scikit-learn's
///   `IsotonicRegression(out_of_bounds="clip")`.
/// - Temperature scaling (Guo et al. 2017), for multiclass models: every class margin divided by one fitted
///   temperature before the softmax. It softens (or sharpens) without reordering the classes, so decisions
///   and the margins that explanations decompose are untouched.
public enum Calibration: Codable, Sendable, Equatable {
    case platt(slope: Double, intercept: Double)
    case isotonic(margins: [Double], probabilities: [Double])
    case temperature(Double)

    public var name: String {
        switch self {
        case .platt: "platt"
        case .isotonic: "isotonic"
        case .temperature: "temperature"
        }
    }

    /// Calibrated class probabilities, row-major, from row-major margins with `classes` per row (one per
    /// row for binary models, which answer both classes' probabilities).
    public func probabilities(margins: [Double], classes: Int) -> [Double] {
        guard case .temperature(let t) = self, classes > 1 else {
            return margins.flatMap { margin in
                let p = probability(margin: margin)
                return [1 - p, p]
            }
        }
        return ScoreLink.apply(margins.map { $0 / t }, task: .multiclass, outputs: classes)
    }

    public func probability(margin: Double) -> Double {
        switch self {
        case .platt(let a, let b):
            return 1 / (1 + exp(-(a * margin + b)))
        case .isotonic(let x, let y):
            guard let first = x.first, let last = x.last else { return 1 / (1 + exp(-margin)) }
            if margin <= first { return y[0] }
            if margin >= last { return y[y.count - 1] }
            var lo = 0, hi = x.count - 1
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if x[mid] <= margin { lo = mid } else { hi = mid }
            }
            let t = x[hi] > x[lo] ? (margin - x[lo]) / (x[hi] - x[lo]) : 0
            return y[lo] + t * (y[hi] - y[lo])
        case .temperature(let t):
            return 1 / (1 + exp(-margin / t))
        }
    }

    /// Platt scaling: Newton's method with backtracking on the smoothed log loss (plain Newton steps can
    /// overshoot and diverge when the margins are far from calibrated).
    public static func platt(margins: [Double], labels: [Double]) -> Calibration {
        let positives = labels.reduce(0, +)
        let negatives = Double(labels.count) - positives
        let high = (positives + 1) / (positives + 2), low = 1 / (negatives + 2)
        let targets = labels.map { $0 > 0.5 ? high : low }
        func loss(_ a: Double, _ b: Double) -> Double {
            var total = 0.0
            for (m, t) in zip(margins, targets) {
                let z = a * m + b
                // log(1 + e^z) − t·z, computed without overflow.
                total += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - t * z
            }
            return total
        }
        var a = 0.0, b = log((positives + 1) / (negatives + 1))
        var current = loss(a, b)
        for _ in 0..<100 {
            var g0 = 0.0, g1 = 0.0, h00 = 1e-12, h01 = 0.0, h11 = 1e-12
            for (m, t) in zip(margins, targets) {
                let p = 1 / (1 + exp(-(a * m + b)))
                let w = max(p * (1 - p), 1e-12)
                g0 += (p - t) * m
                g1 += p - t
                h00 += w * m * m
                h01 += w * m
                h11 += w
            }
            let det = h00 * h11 - h01 * h01
            guard abs(det) > 1e-18 else { break }
            let da = (h11 * g0 - h01 * g1) / det
            let db = (h00 * g1 - h01 * g0) / det
            var step = 1.0
            var next = loss(a - da, b - db)
            while next > current, step > 1e-10 {
                step /= 2
                next = loss(a - step * da, b - step * db)
            }
            guard next <= current else { break }
            a -= step * da
            b -= step * db
            let improvement = current - next
            current = next
            if improvement < 1e-12 * max(1, abs(current)) { break }
        }
        return .platt(slope: a, intercept: b)
    }

    /// Temperature scaling: the inverse temperature β minimising the log loss of softmax(β·m), by safeguarded
    /// Newton steps (the loss is convex in β: its second derivative is the variance of the margin under the
    /// predicted distribution). `labels` are class indices; β stays within [0.05, 20].
    public static func temperature(margins: [Double], labels: [Double], classes: Int) -> Calibration {
        let rows = labels.count
        // Loss, gradient and curvature at β, one pass over the rows.
        func evaluate(_ beta: Double) -> (loss: Double, gradient: Double, curvature: Double) {
            var loss = 0.0, gradient = 0.0, curvature = 0.0
            var weights = [Double](repeating: 0, count: classes)
            for row in 0..<rows {
                let base = row * classes
                var maximum = -Double.infinity
                for c in 0..<classes { maximum = max(maximum, beta * margins[base + c]) }
                var sum = 0.0, mean = 0.0
                for c in 0..<classes {
                    weights[c] = exp(beta * margins[base + c] - maximum)
                    sum += weights[c]
                }
                for c in 0..<classes { mean += weights[c] / sum * margins[base + c] }
                var variance = 0.0
                for c in 0..<classes { variance += weights[c] / sum * (margins[base + c] - mean) * (margins[base + c] - mean) }
                let label = base + Int(labels[row])
                loss += maximum + log(sum) - beta * margins[label]
                gradient += mean - margins[label]
                curvature += variance
            }
            return (loss, gradient, curvature)
        }
        var beta = 1.0
        var current = evaluate(beta)
        for _ in 0..<50 {
            guard current.curvature > 1e-12 else { break }
            var next = min(20, max(0.05, beta - current.gradient / current.curvature))
            var candidate = evaluate(next)
            while candidate.loss > current.loss, abs(next - beta) > 1e-9 {
                next = (next + beta) / 2
                candidate = evaluate(next)
            }
            guard candidate.loss <= current.loss else { break }
            let moved = abs(next - beta)
            beta = next
            current = candidate
            if moved < 1e-9 { break }
        }
        return .temperature(1 / beta)
    }

    /// Isotonic regression by pool adjacent violators; ties in the margin are pooled first. Fitted values
    /// are kept within [floor, 1 − floor]: plain isotonic regression (floor 0, scikit-learn's) answers 0 or 1
    /// at the extremes, which costs an unbounded log loss on the first unseen row that disagrees.
    public static func isotonic(margins: [Double], labels: [Double], floor: Double = 0) -> Calibration {
        let order = margins.indices.sorted { margins[$0] < margins[$1] }
        var blocks: [(x: Double, sum: Double, weight: Double)] = []
        var i = 0
        while i < order.count {
            var j = i
            var sum = 0.0
            while j < order.count, margins[order[j]] == margins[order[i]] {
                sum += labels[order[j]]
                j += 1
            }
            blocks.append((margins[order[i]], sum, Double(j - i)))
            i = j
        }
        // Pool adjacent violators, keeping for each pooled block its (weighted) margin centre.
        var stack: [(xSum: Double, sum: Double, weight: Double, firstX: Double, lastX: Double)] = []
        for block in blocks {
            var current = (xSum: block.x * block.weight, sum: block.sum, weight: block.weight, firstX: block.x, lastX: block.x)
            while let top = stack.last, top.sum / top.weight >= current.sum / current.weight {
                stack.removeLast()
                current = (top.xSum + current.xSum, top.sum + current.sum, top.weight + current.weight, top.firstX, current.lastX)
            }
            stack.append(current)
        }
        // Knots at each block's ends reproduce the step function between them, as scikit-learn's
        // interpolation of the fitted values at the training margins does.
        var x: [Double] = []
        var y: [Double] = []
        for block in stack {
            let value = min(max(block.sum / block.weight, floor), 1 - floor)
            x.append(block.firstX)
            y.append(value)
            if block.lastX > block.firstX {
                x.append(block.lastX)
                y.append(value)
            }
        }
        return .isotonic(margins: x, probabilities: y)
    }
}

/// How a binary model turns a probability into a class: the positive class when p ≥ threshold.
public enum DecisionThreshold {
    /// The threshold minimising total cost on out-of-fold probabilities, where a false positive costs
    /// `falsePositive` and a false negative `falseNegative`.
    public static func minimisingCost(probabilities: [Double], labels: [Double], falsePositive: Double, falseNegative: Double) -> Double {
        best(probabilities: probabilities, labels: labels) { tp, fp, fn, tn in -(falsePositive * fp + falseNegative * fn) }
    }

    /// The threshold maximising a confusion-matrix metric (accuracy, balanced accuracy, macro F1).
    public static func maximising(_ metric: Metric, probabilities: [Double], labels: [Double]) -> Double {
        best(probabilities: probabilities, labels: labels) { tp, fp, fn, tn in
            switch metric {
            case .balancedAccuracy:
                return 0.5 * (tp / max(tp + fn, 1e-12) + tn / max(tn + fp, 1e-12))
            case .f1Macro:
                let f1Positive = 2 * tp / max(2 * tp + fp + fn, 1e-12)
                let f1Negative = 2 * tn / max(2 * tn + fn + fp, 1e-12)
                return (f1Positive + f1Negative) / 2
            default:
                return tp + tn
            }
        }
    }

    /// Scans every distinct probability as a threshold (plus one above all), choosing the best score; ties
    /// go to the threshold closest to 0.5.
    private static func best(probabilities: [Double], labels: [Double], score: (Double, Double, Double, Double) -> Double) -> Double {
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        let positives = labels.reduce(0, +)
        let negatives = Double(labels.count) - positives
        // Threshold above every probability: everything negative.
        var tp = 0.0, fp = 0.0
        var bestThreshold = 1.0 + 1e-9
        var bestScore = score(0, 0, positives, negatives)
        var i = 0
        while i < order.count {
            let p = probabilities[order[i]]
            while i < order.count, probabilities[order[i]] == p {
                if labels[order[i]] > 0.5 { tp += 1 } else { fp += 1 }
                i += 1
            }
            let value = score(tp, fp, positives - tp, negatives - fp)
            if value > bestScore + 1e-12 || (abs(value - bestScore) <= 1e-12 && abs(p - 0.5) < abs(bestThreshold - 0.5)) {
                bestScore = value
                bestThreshold = p
            }
        }
        return min(max(bestThreshold, 0), 1)
    }
}
