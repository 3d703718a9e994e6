import Foundation
import KeelData
@testable import KeelLearn
import KeelTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ExplainableBoostingTests {
    private let train = SyntheticTable(rows: 3000, seed: 1)
    private let test = SyntheticTable(rows: 1500, seed: 2)

    private func fast() -> ExplainableBoostingParameters {
        var p = ExplainableBoostingParameters()
        p.learningRate = 0.05
        p.maxRounds = 300
        p.outerBags = 2
        p.interactions = 2
        return p
    }

    @Test func shapeFunctionsRecoverTheGeneratingFunctions() throws {
        let model = try ExplainableBoosting(parameters: fast()).fit(train.features, target: train.regressionTarget(seed: 5, noise: 0.1))
        let r2 = try Metric.r2.evaluate(truth: test.regressionTarget(seed: 6, noise: 0.1).values, predictions: model.predict(test.features), classCount: 0)
        #expect(r2 > 0.9, "R² \(r2)")
        // Feature 0 enters as 1.5·a: its shape rises across its bins.
        let shape = model.terms[0].scores.dropLast()
        #expect(shape.last! - shape.first! > 4, "shape of a spans \(shape.first!) … \(shape.last!)")
        // Feature 1 enters as −b²/2: highest in the middle.
        let b = Array(model.terms[1].scores.dropLast())
        #expect(b[b.count / 2] > b.first! + 0.5 && b[b.count / 2] > b.last! + 0.5)
        // Missing values of feature 2 carry signal (+1.2 versus a mean of 0.5) and get their own score.
        let c = model.terms[2].scores
        #expect(c.last! > c[c.count / 2])
        #expect(model.terms.filter { $0.features.count == 2 }.count <= 2)
        #expect(model.terms[0].importance > model.terms[2].importance)
    }

    @Test func binaryAndMulticlass() throws {
        let binary = try ExplainableBoosting(parameters: fast()).fit(train.features, target: train.binaryTarget(seed: 3))
        let auc = try Metric.rocAUC.evaluate(truth: test.binaryTarget(seed: 4).values, predictions: binary.predict(test.features), classCount: 2)
        #expect(auc > 0.8, "AUC \(auc)")
        let multi = try ExplainableBoosting(parameters: fast()).fit(train.features, target: train.multiclassTarget())
        let accuracy = try Metric.accuracy.evaluate(truth: test.multiclassTarget().values, predictions: multi.predict(test.features), classCount: 3)
        #expect(accuracy > 0.85, "accuracy \(accuracy)")
        #expect(multi.terms.allSatisfy { $0.features.count == 1 })
    }

    @Test func monotoneShapesAndCodable() throws {
        var p = fast()
        p.monotoneConstraints = [0, 1, 0, 0]
        let model = try ExplainableBoosting(parameters: p).fit(train.features, target: train.regressionTarget(seed: 5))
        let b = Array(model.terms[1].scores.dropLast())
        #expect(zip(b, b.dropFirst()).allSatisfy { $0 <= $1 + 1e-12 }, "constrained shape is non-decreasing")
        let decoded = try JSONDecoder().decode(FittedModel.self, from: JSONEncoder().encode(FittedModel.explainableBoosting(model)))
        #expect(try decoded.predict(test.features) == model.predict(test.features))
    }

    @Test func isotonicProjectionMatchesHandComputedExample() {
        #expect(Isotonic.fit([1, 3, 2, 4, 9], weights: [1, 1, 1, 1, 1], increasing: true, excludingLast: true) == [1, 2.5, 2.5, 4, 9])
        #expect(Isotonic.fit([3, 1, 2], weights: [1, 3, 1], increasing: false, excludingLast: false) == [3, 1.25, 1.25])
    }
}
