import KeelData
import KeelLearn
import KeelTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct MonotoneConstraintTests {
    /// y rises with a overall but wiggles (sin), falls with b, and depends on c freely.
    private func table(rows: Int, seed: UInt64) -> (FeatureMatrix, TargetEncoding) {
        var g = SeededGenerator(seed: seed)
        var values = [Double](repeating: 0, count: rows * 3)
        var y = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            let (a, b, c) = (g.nextUnit() * 6, g.nextUnit() * 4, g.nextUnit())
            values[i] = a
            values[rows + i] = b
            values[2 * rows + i] = c
            y[i] = 0.5 * a + sin(3 * a) - 0.3 * b * b + 2 * c + (g.nextUnit() - 0.5) * 0.3
        }
        return (FeatureMatrix(rowCount: rows, kinds: [.numeric, .numeric, .numeric], values: values),
                TargetEncoding(task: LearningTask(kind: .regression), values: y))
    }

    /// Largest violation along a grid of feature `f` (direction `sign`), over fixed values of the others.
    private func worstViolation(_ model: GradientBoostedModel, feature f: Int, sign: Double) throws -> Double {
        var worst = 0.0
        for base in [0.1, 0.5, 0.9] {
            let grid = (0...60).map { Double($0) / 10 }
            var values = [Double](repeating: 0, count: grid.count * 3)
            for (i, v) in grid.enumerated() {
                values[i] = f == 0 ? v : base * 6
                values[grid.count + i] = f == 1 ? v : base * 4
                values[2 * grid.count + i] = base
            }
            let p = try model.predict(FeatureMatrix(rowCount: grid.count, kinds: [.numeric, .numeric, .numeric], values: values))
            for i in 1..<p.count { worst = max(worst, sign * (p[i - 1] - p[i])) }
        }
        return worst
    }

    @Test func predictionsRespectTheConstraints() throws {
        let (x, y) = table(rows: 5000, seed: 1)
        var parameters = GradientBoostingParameters()
        parameters.rounds = 150
        let free = try GradientBoosting(parameters: parameters).fit(x, target: y)
        #expect(try worstViolation(free, feature: 0, sign: 1) > 0.05, "without constraints the sine shows")
        parameters.monotoneConstraints = [1, -1, 0]
        let constrained = try GradientBoosting(parameters: parameters).fit(x, target: y)
        #expect(try worstViolation(constrained, feature: 0, sign: 1) <= 1e-12)
        #expect(try worstViolation(constrained, feature: 1, sign: -1) <= 1e-12)
        let (tx, ty) = table(rows: 2000, seed: 2)
        let rmse = try Metric.rmse.evaluate(truth: ty.values, predictions: constrained.predict(tx), classCount: 0)
        #expect(rmse < 0.8, "still a useful model: RMSE \(rmse)")
    }

    @Test func invalidConstraintsAreErrors() {
        let (x, y) = table(rows: 200, seed: 1)
        var parameters = GradientBoostingParameters()
        parameters.monotoneConstraints = [1, 0]
        #expect(CSVFixtures.errorMessage { _ = try GradientBoosting(parameters: parameters).fit(x, target: y) } == "2 monotone constraints for 3 features")
        parameters.monotoneConstraints = [2, 0, 0]
        #expect(CSVFixtures.errorMessage { _ = try GradientBoosting(parameters: parameters).fit(x, target: y) } == "monotone constraints are -1, 0 or 1, not 2")
    }
}
