import Foundation
import KeelData
import KeelLearn

/// What the search decided about a classifier's probabilities and (binary) decisions, from out-of-fold
/// margins only (the holdout stays unseen).
public struct CalibrationChoice: Codable, Sendable {
    /// "none", "platt" or "isotonic" (binary), "none" or "temperature" (multiclass).
    public var method: String
    /// Cross-validated log loss on the out-of-fold margins without calibration and with each method tried.
    public var logLoss: [String: Double]
    public var threshold: Double
    /// Why the threshold is what it is: "default", "costs FP=…, FN=…" or the metric it maximises.
    public var thresholdReason: String
    var calibration: Calibration?

    enum CodingKeys: String, CodingKey {
        case method, logLoss, threshold, thresholdReason
    }

    /// Compares no calibration, Platt scaling and (with at least 1,000 rows) isotonic regression by 5-fold
    /// cross-validated log loss on `margins`; a method is kept only when it lowers the log loss by more than
    /// 0.2%. Then picks the decision threshold: the cheapest for `costs`, the best for a threshold-dependent
    /// metric, or 0.5.
    static func decide(margins: [Double], labels: [Double], metric: Metric, costs: (falsePositive: Double, falseNegative: Double)?,
                       seed: UInt64) -> CalibrationChoice {
        let rows = margins.indices.filter { margins[$0].isFinite }
        let m = rows.map { margins[$0] }
        let y = rows.map { labels[$0] }
        let positives = y.reduce(0, +)
        var choice = CalibrationChoice(method: "none", logLoss: [:], threshold: 0.5, thresholdReason: "default", calibration: nil)
        guard m.count >= 50, positives > 0, positives < Double(m.count) else { return choice }

        var generator = SeededGenerator(seed: seed)
        let fold = m.indices.map { _ in generator.next(below: 5) }
        func crossValidated(_ fit: ([Double], [Double]) -> Calibration?) -> Double {
            var loss = 0.0
            for k in 0..<5 {
                let train = m.indices.filter { fold[$0] != k }
                let calibration = fit(train.map { m[$0] }, train.map { y[$0] })
                for i in m.indices where fold[i] == k {
                    let p = calibration?.probability(margin: m[i]) ?? 1 / (1 + exp(-m[i]))
                    loss -= Self.logLikelihood(p, y[i])
                }
            }
            return loss / Double(m.count)
        }
        choice.logLoss["none"] = crossValidated { _, _ in nil }
        choice.logLoss["platt"] = crossValidated(Calibration.platt)
        // Isotonic fits are kept half a row away from 0 and 1 (Laplace-style), so one surprise is not fatal.
        let isotonic = { (x: [Double], y: [Double]) in Calibration.isotonic(margins: x, labels: y, floor: 0.5 / Double(x.count + 1)) }
        if m.count >= 1000 { choice.logLoss["isotonic"] = crossValidated(isotonic) }
        let none = choice.logLoss["none"]!
        if let (method, loss) = choice.logLoss.filter({ $0.key != "none" }).min(by: { $0.value < $1.value }), loss < none * 0.998 {
            choice.method = method
            choice.calibration = method == "platt" ? Calibration.platt(margins: m, labels: y) : isotonic(m, y)
        }
        let probabilities = m.map { choice.calibration?.probability(margin: $0) ?? 1 / (1 + exp(-$0)) }
        if let costs {
            choice.threshold = DecisionThreshold.minimisingCost(probabilities: probabilities, labels: y, falsePositive: costs.falsePositive,
                                                                falseNegative: costs.falseNegative)
            choice.thresholdReason = "costs FP=\(NumberFormatting.canonical(costs.falsePositive)), FN=\(NumberFormatting.canonical(costs.falseNegative))"
        } else if [.accuracy, .balancedAccuracy, .f1Macro].contains(metric) {
            choice.threshold = DecisionThreshold.maximising(metric, probabilities: probabilities, labels: y)
            choice.thresholdReason = "maximises out-of-fold \(metric.rawValue)"
        }
        return choice
    }

    /// Multiclass models: compares no calibration with temperature scaling by 5-fold cross-validated log loss
    /// on `margins` (row-major, `classes` per row) and keeps it only when it lowers the log loss by more than
    /// 0.2%. Boosting fitted to small folds, and forests' vote shares, are often over- or under-confident; one
    /// temperature corrects that without changing any decision.
    static func decideMulticlass(margins: [Double], labels: [Double], classes: Int, seed: UInt64) -> CalibrationChoice {
        var choice = CalibrationChoice(method: "none", logLoss: [:], threshold: 0.5, thresholdReason: "default", calibration: nil)
        let rows = labels.indices.filter { row in (0..<classes).allSatisfy { margins[row * classes + $0].isFinite } }
        guard rows.count >= 50, classes > 2 else { return choice }
        let m = rows.flatMap { row in margins[(row * classes)..<((row + 1) * classes)] }
        let y = rows.map { labels[$0] }
        var generator = SeededGenerator(seed: seed)
        let fold = y.indices.map { _ in generator.next(below: 5) }
        func loss(_ calibration: Calibration?, rows selected: [Int]) -> Double {
            let block = selected.flatMap { row in m[(row * classes)..<((row + 1) * classes)] }
            let p = calibration?.probabilities(margins: block, classes: classes) ?? ScoreLink.apply(block, task: .multiclass, outputs: classes)
            return zip(selected.indices, selected).reduce(0) { total, pair in
                total - log(max(p[pair.0 * classes + Int(y[pair.1])], 1e-15))
            }
        }
        var none = 0.0, scaled = 0.0
        for k in 0..<5 {
            let train = y.indices.filter { fold[$0] != k }
            let test = y.indices.filter { fold[$0] == k }
            let fitted = Calibration.temperature(margins: train.flatMap { row in m[(row * classes)..<((row + 1) * classes)] },
                                                 labels: train.map { y[$0] }, classes: classes)
            none += loss(nil, rows: test)
            scaled += loss(fitted, rows: test)
        }
        choice.logLoss = ["none": none / Double(y.count), "temperature": scaled / Double(y.count)]
        if scaled < none * 0.998 {
            choice.method = "temperature"
            choice.calibration = Calibration.temperature(margins: m, labels: y, classes: classes)
        }
        return choice
    }

    private static func logLikelihood(_ p: Double, _ y: Double) -> Double {
        let q = min(max(p, 1e-15), 1 - 1e-15)
        return y > 0.5 ? log(q) : log(1 - q)
    }
}
