import Foundation
import KeelData
import KeelLearn
import KeelTestSupport
import Testing

/// Platt scaling and isotonic regression equal scikit-learn's, temperature scaling equals scipy's one-dimensional
/// minimisation; decision thresholds minimise what they claim.
@Suite struct CalibrationTests {
    /// Margins of an over-confident model: the true log-odds are half the margin, shifted.
    static func data(rows: Int, seed: UInt64) -> (margins: [Double], labels: [Double]) {
        var g = SeededGenerator(seed: seed)
        var margins: [Double] = []
        var labels: [Double] = []
        for _ in 0..<rows {
            let m = (g.nextUnit() - 0.5) * 10
            margins.append(m)
            labels.append(g.nextUnit() < 1 / (1 + exp(-(0.5 * m - 0.7))) ? 1 : 0)
        }
        return (margins, labels)
    }

    @Test func plattAndIsotonicEqualScikitLearn() throws {
        let (m, y) = Self.data(rows: 2000, seed: 3)
        let grid = stride(from: -6.0, through: 6.0, by: 0.25).map { $0 }
        let document: [String: Any] = ["m": m, "y": y, "grid": grid]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-calibration-\(UUID().uuidString).json").path
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: path))
        let output = try PythonEnvironment.run("""
        import json, sys
        import numpy as np
        from scipy.optimize import minimize
        from scipy.special import expit, xlogy
        from sklearn.isotonic import IsotonicRegression
        d = json.load(open(sys.argv[1]))
        m, y, grid = np.array(d["m"]), np.array(d["y"]), np.array(d["grid"])
        # Platt (1999) with his smoothed targets, written out with public scipy: P = 1 / (1 + exp(a·f + b)).
        positives = float((y > 0.5).sum()); negatives = len(y) - positives
        t = np.where(y > 0.5, (positives + 1) / (positives + 2), 1 / (negatives + 2))
        def loss(ab):
            p = expit(-(ab[0] * m + ab[1]))
            return -(xlogy(t, p) + xlogy(1 - t, 1 - p)).sum()
        def gradient(ab):
            r = t - expit(-(ab[0] * m + ab[1]))
            return np.array([(r * m).sum(), r.sum()])
        fit = minimize(loss, np.array([0.0, np.log((negatives + 1) / (positives + 1))]), jac=gradient, method="BFGS", options={"gtol": 1e-10, "maxiter": 10000})
        a, b = fit.x
        iso = IsotonicRegression(out_of_bounds="clip").fit(m, y)
        print(json.dumps({"a": float(a), "b": float(b), "iso": iso.predict(grid).tolist(), "iso_train": iso.predict(m).tolist()}))
        """, arguments: [path])
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        // scikit-learn writes P = 1 / (1 + exp(a·f + b)).
        guard case .platt(let slope, let intercept) = Calibration.platt(margins: m, labels: y) else { Issue.record("platt expected"); return }
        #expect(abs(slope + (theirs["a"] as! Double)) < 1e-4, "slope \(slope) vs \(-(theirs["a"] as! Double))")
        #expect(abs(intercept + (theirs["b"] as! Double)) < 1e-4, "intercept \(intercept) vs \(-(theirs["b"] as! Double))")
        #expect(abs(slope - 0.5) < 0.1 && abs(intercept + 0.7) < 0.2, "recovers the true map")
        let isotonic = Calibration.isotonic(margins: m, labels: y)
        let onGrid = try #require(theirs["iso"] as? [Double])
        let onTraining = try #require(theirs["iso_train"] as? [Double])
        #expect(zip(grid, onGrid).allSatisfy { abs(isotonic.probability(margin: $0) - $1) < 1e-9 })
        #expect(zip(m, onTraining).allSatisfy { abs(isotonic.probability(margin: $0) - $1) < 1e-9 })
    }

    @Test func thresholdsMinimiseCostAndMaximiseTheMetric() {
        let (m, y) = Self.data(rows: 500, seed: 9)
        let p = m.map { 1 / (1 + exp(-(0.5 * $0 - 0.7))) }
        func cost(_ t: Double, _ fp: Double, _ fn: Double) -> Double {
            zip(p, y).reduce(0) { total, pair in
                let predicted = pair.0 >= t
                return total + (predicted && pair.1 < 0.5 ? fp : 0) + (!predicted && pair.1 > 0.5 ? fn : 0)
            }
        }
        for (fp, fn) in [(1.0, 1.0), (1.0, 9.0), (5.0, 1.0)] {
            let t = DecisionThreshold.minimisingCost(probabilities: p, labels: y, falsePositive: fp, falseNegative: fn)
            let bruteForce = (p + [1.01]).map { cost($0, fp, fn) }.min()!
            #expect(abs(cost(t, fp, fn) - bruteForce) < 1e-9, "costs \(fp),\(fn): threshold \(t)")
        }
        // Costly misses lower the threshold; costly false alarms raise it.
        #expect(DecisionThreshold.minimisingCost(probabilities: p, labels: y, falsePositive: 1, falseNegative: 9) < 0.3)
        #expect(DecisionThreshold.minimisingCost(probabilities: p, labels: y, falsePositive: 9, falseNegative: 1) > 0.7)
        let accuracy = { (t: Double) in zip(p, y).filter { ($0.0 >= t) == ($0.1 > 0.5) }.count }
        let best = DecisionThreshold.maximising(.accuracy, probabilities: p, labels: y)
        #expect(accuracy(best) == (p + [1.01]).map(accuracy).max()!)
    }

    /// Margins of an over-confident `classes`-class model: the true class probabilities are softmax(margin / 2.5).
    static func multiclassData(rows: Int, classes: Int, seed: UInt64) -> (margins: [Double], labels: [Double]) {
        var g = SeededGenerator(seed: seed)
        var margins: [Double] = []
        var labels: [Double] = []
        for _ in 0..<rows {
            let row = (0..<classes).map { _ in (g.nextUnit() - 0.5) * 12 }
            let p = ScoreLink.apply(row.map { $0 / 2.5 }, task: .multiclass, outputs: classes)
            var u = g.nextUnit()
            var label = classes - 1
            for c in 0..<classes {
                u -= p[c]
                if u < 0 { label = c; break }
            }
            margins += row
            labels.append(Double(label))
        }
        return (margins, labels)
    }

    @Test func temperatureEqualsScipyAndKeepsEveryDecision() throws {
        let classes = 5
        let (m, y) = Self.multiclassData(rows: 3000, classes: classes, seed: 11)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-temperature-\(UUID().uuidString).json").path
        try JSONSerialization.data(withJSONObject: ["m": m, "y": y, "k": classes] as [String: Any]).write(to: URL(fileURLWithPath: path))
        let output = try PythonEnvironment.run("""
        import json, sys
        import numpy as np
        from scipy.optimize import minimize_scalar
        from scipy.special import log_softmax
        d = json.load(open(sys.argv[1]))
        m = np.array(d["m"]).reshape(-1, d["k"]); y = np.array(d["y"], dtype=int)
        loss = lambda t: -log_softmax(m / t, axis=1)[np.arange(len(y)), y].mean()
        r = minimize_scalar(loss, bounds=(0.05, 20), method="bounded", options={"xatol": 1e-10})
        print(json.dumps({"t": float(r.x)}))
        """, arguments: [path])
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        guard case .temperature(let t) = Calibration.temperature(margins: m, labels: y, classes: classes) else {
            Issue.record("temperature expected"); return
        }
        let scipy = try #require(theirs["t"] as? Double)
        #expect(abs(t - scipy) < 1e-5, "temperature \(t) vs scipy \(scipy)")
        #expect(abs(t - 2.5) < 0.25, "recovers the true temperature, \(t)")
        let calibrated = Calibration.temperature(t).probabilities(margins: m, classes: classes)
        let raw = ScoreLink.apply(m, task: .multiclass, outputs: classes)
        for row in 0..<(m.count / classes) {
            let range = (row * classes)..<((row + 1) * classes)
            #expect(abs(calibrated[range].reduce(0, +) - 1) < 1e-12)
            let argmax = { (p: ArraySlice<Double>) in p.indices.max { p[$0] < p[$1] }! }
            #expect(argmax(calibrated[range]) == argmax(raw[range]), "row \(row): the decision is unchanged")
        }
        // Calibrated margins need no temperature.
        let (calibratedMargins, labels) = (m.map { $0 / 2.5 }, y)
        let refitted = Calibration.temperature(margins: calibratedMargins, labels: labels, classes: classes)
        guard case .temperature(let one) = refitted else { Issue.record("temperature scaling expected, got \(refitted)"); return }
        #expect(abs(one - 1) < 0.1, "temperature of calibrated margins \(one)")
    }
}
