import Foundation
import KeelData
@testable import KeelLearn
import KeelTestSupport
import Testing

@Suite struct LinearModelTests {
    private func numericTable(rows: Int, seed: UInt64) -> (FeatureMatrix, [Double]) {
        var g = SeededGenerator(seed: seed)
        var values = [Double](repeating: 0, count: rows * 3)
        var margin = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            let (a, b, c) = (g.nextUnit() * 2 - 1, g.nextUnit() * 2 - 1, g.nextUnit() * 2 - 1)
            values[i] = a
            values[rows + i] = b
            values[2 * rows + i] = c
            margin[i] = 2 * a - 1 * b + 0 * c
        }
        return (FeatureMatrix(rowCount: rows, kinds: [.numeric, .numeric, .numeric], values: values), margin)
    }

    @Test func lassoZeroesTheIrrelevantFeatureAndRidgeShrinks() throws {
        let (x, margin) = numericTable(rows: 2000, seed: 4)
        var g = SeededGenerator(seed: 8)
        let y = TargetEncoding(task: LearningTask(kind: .regression), values: margin.map { $0 + (g.nextUnit() - 0.5) * 0.2 })
        var lasso = LinearParameters()
        lasso.lambda = 0.02
        lasso.l1Ratio = 1
        let sparse = try LinearLearner(parameters: lasso).fit(x, target: y)
        #expect(sparse.converged)
        #expect(sparse.coefficients[0][2] == 0)
        #expect(sparse.coefficients[0][0] > 0 && sparse.coefficients[0][1] < 0)
        let free = try LinearLearner().fit(x, target: y)
        let raw = free.unstandardisedCoefficients[0]
        #expect(abs(raw[0] - 2) < 0.02 && abs(raw[1] + 1) < 0.02 && abs(raw[2]) < 0.02)
        var ridge = LinearParameters()
        ridge.lambda = 1
        let shrunk = try LinearLearner(parameters: ridge).fit(x, target: y)
        #expect(abs(shrunk.coefficients[0][0]) < abs(free.coefficients[0][0]))
    }

    @Test func signConstraintsAreHonoured() throws {
        let (x, margin) = numericTable(rows: 1000, seed: 4)
        let y = TargetEncoding(task: LearningTask(kind: .regression), values: margin)
        var p = LinearParameters()
        p.signConstraints = [0, 1, 0]
        let model = try LinearLearner(parameters: p).fit(x, target: y)
        #expect(model.coefficients[0][1] == 0, "b's true effect is negative; a ≥ 0 constraint pins it at 0")
    }

    @Test func logisticAndMultinomialPredictProbabilities() throws {
        let train = SyntheticTable(rows: 3000, seed: 1)
        let test = SyntheticTable(rows: 1000, seed: 2)
        let binary = try LinearLearner().fit(train.features, target: train.binaryTarget(seed: 3))
        let auc = try Metric.rocAUC.evaluate(truth: test.binaryTarget(seed: 4).values, predictions: binary.predict(test.features), classCount: 2)
        #expect(auc > 0.75, "AUC \(auc)")
        let multi = try LinearLearner().fit(train.features, target: train.multiclassTarget())
        let p = try multi.predict(test.features)
        #expect((0..<1000).allSatisfy { abs(p[($0 * 3)..<($0 * 3 + 3)].reduce(0, +) - 1) < 1e-9 })
        let decoded = try JSONDecoder().decode(LinearModel.self, from: JSONEncoder().encode(multi))
        #expect(try decoded.predict(test.features) == p)
    }
}

@Suite struct LinearDesignTests {
    @Test func medianImputationIndicatorsAndMostFrequentLevels() throws {
        // Feature 0: numbers with a missing value; feature 1: categories 0, 0, 1 and a missing one.
        let x = FeatureMatrix(rowCount: 4, kinds: [.numeric, .categorical], values: [1, 2, .nan, 10, 0, 0, 1, .nan])
        let design = LinearDesign(x, weights: nil)
        #expect(design.terms.count == 4, "value, missing indicator, two levels")
        #expect(design.terms[0].fill == 2, "median of 1, 2, 10")
        #expect(design.terms[1].indicatesMissing)
        #expect(design.terms[2].fill == 0, "the most frequent level stands in for a missing one")
        let columns = try design.columns(x)
        let raw = (0..<4).map { columns[$0] * design.terms[0].scale + design.terms[0].mean }
        #expect(abs(raw[2] - 2) < 1e-12)
        let level0 = (0..<4).map { columns[2 * 4 + $0] * design.terms[2].scale + design.terms[2].mean }
        #expect(level0.map { ($0 * 1e9).rounded() / 1e9 } == [1, 1, 0, 1])
    }

    @Test func moreClassesThanRowsIsAnError() {
        let column = Column(name: "y", values: .categorical(EncodedStrings(codes: [0, 1], levels: ["a", "b"])))
        let task = LearningTask(kind: .multiclass, classes: ["a", "b", "c"])
        #expect(CSVFixtures.errorMessage { _ = try TargetEncoding(column: column, task: task) } == "target 'y' has 3 classes but only 2 rows; a classifier needs more rows than classes")
    }
}
