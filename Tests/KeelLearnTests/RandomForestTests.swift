import Foundation
import KeelData
@testable import KeelLearn
import KeelTestSupport
import Testing

@Suite struct RandomForestTests {
    private let train = SyntheticTable(rows: 4000, seed: 1)
    private let test = SyntheticTable(rows: 2000, seed: 2)

    @Test func forestsAndExtraTreesLearnBinaryStructure() throws {
        for parameters in [ForestParameters(), ForestParameters.extraTrees] {
            var p = parameters
            p.trees = 60
            p.minSamplesLeaf = 5
            let model = try RandomForest(parameters: p).fit(train.features, target: train.binaryTarget(seed: 3))
            let auc = try Metric.rocAUC.evaluate(truth: test.binaryTarget(seed: 4).values, predictions: model.predict(test.features), classCount: 2)
            #expect(auc > 0.8, "\(p.randomThresholds ? "extra trees" : "random forest") AUC \(auc)")
            #expect((model.outOfBagScore != nil) == p.bootstrap)
        }
    }

    @Test func regressionAndMulticlass() throws {
        var p = ForestParameters()
        p.trees = 40
        let regression = try RandomForest(parameters: p).fit(train.features, target: train.regressionTarget(seed: 5))
        let r2 = try Metric.r2.evaluate(truth: test.regressionTarget(seed: 6).values, predictions: regression.predict(test.features), classCount: 0)
        #expect(r2 > 0.75, "R² \(r2)")
        #expect(regression.outOfBagScore.map { abs($0 - r2) < 0.1 } == true, "out-of-bag R² \(regression.outOfBagScore ?? .nan) vs test \(r2)")
        let multiclass = try RandomForest(parameters: p).fit(train.features, target: train.multiclassTarget())
        let probabilities = try multiclass.predict(test.features)
        #expect(multiclass.trees.count == 40 * 3)
        #expect((0..<test.features.rowCount).allSatisfy { abs(probabilities[($0 * 3)..<($0 * 3 + 3)].reduce(0, +) - 1) < 1e-9 })
    }

    @Test func deterministicAndCodable() throws {
        var p = ForestParameters()
        p.trees = 12
        p.seed = 9
        let target = train.binaryTarget(seed: 3)
        let a = try RandomForest(parameters: p).fit(train.features, target: target)
        let b = try RandomForest(parameters: p).fit(train.features, target: target)
        #expect(a == b)
        let decoded = try JSONDecoder().decode(ForestModel.self, from: JSONEncoder().encode(a))
        #expect(try decoded.predict(test.features) == a.predict(test.features))
    }

    @Test func badParameters() {
        var p = ForestParameters()
        p.trees = 0
        #expect(CSVFixtures.errorMessage { _ = try RandomForest(parameters: p).fit(train.features, target: train.binaryTarget(seed: 3)) } == "a forest needs at least 1 tree, not 0")
        p = ForestParameters()
        p.maxFeatures = .fraction(1.5)
        #expect(CSVFixtures.errorMessage { _ = try RandomForest(parameters: p).fit(train.features, target: train.binaryTarget(seed: 3)) } == "max features fraction must be in (0, 1], not 1.5")
    }
}
