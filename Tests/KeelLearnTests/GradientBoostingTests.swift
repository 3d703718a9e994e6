import Foundation
import KeelData
@testable import KeelLearn
import KeelTestSupport
import Testing

@Suite struct GradientBoostingTests {
    private let train = SyntheticTable(rows: 6000, seed: 1)
    private let test = SyntheticTable(rows: 3000, seed: 2)

    private func auc(_ model: GradientBoostedModel, _ table: SyntheticTable, _ target: TargetEncoding) throws -> Double {
        try Metric.rocAUC.evaluate(truth: target.values, predictions: model.predict(table.features), classCount: 2)
    }

    @Test func learnsBinaryStructureIncludingMissingnessAndCategories() throws {
        var parameters = GradientBoostingParameters()
        parameters.rounds = 150
        parameters.learningRate = 0.05
        let model = try GradientBoosting(parameters: parameters).fit(train.features, target: train.binaryTarget(seed: 3))
        let score = try auc(model, test, test.binaryTarget(seed: 4))
        // The Bayes-optimal AUC of this generator is about 0.86; a constant model scores 0.5.
        #expect(score > 0.82, "AUC \(score)")
        #expect(model.trees.contains { $0.categorySet.contains { $0 >= 0 } }, "uses categorical splits")
        #expect(model.trees.contains { tree in tree.feature.indices.contains { tree.feature[$0] == 2 && tree.defaultLeft[$0] } })
    }

    @Test func regressionObjectivesReduceError() throws {
        let target = train.regressionTarget(seed: 5)
        let truth = test.regressionTarget(seed: 6)
        let baseline = try Metric.rmse.evaluate(truth: truth.values, predictions: [Double](repeating: target.values.reduce(0, +) / Double(target.values.count), count: truth.values.count), classCount: 0)
        for objective in [Objective.l2, .l1, .huber] {
            var parameters = GradientBoostingParameters()
            parameters.objective = objective
            parameters.rounds = 200
            let model = try GradientBoosting(parameters: parameters).fit(train.features, target: target)
            let rmse = try Metric.rmse.evaluate(truth: truth.values, predictions: model.predict(test.features), classCount: 0)
            #expect(rmse < 0.45 * baseline, "\(objective): \(rmse) vs baseline \(baseline)")
        }
    }

    @Test func multiclassProbabilitiesSumToOne() throws {
        var parameters = GradientBoostingParameters()
        parameters.rounds = 60
        let model = try GradientBoosting(parameters: parameters).fit(train.features, target: train.multiclassTarget())
        let probabilities = try model.predict(test.features)
        #expect(model.trees.count == 60 * 3)
        for row in 0..<test.features.rowCount { #expect(abs(probabilities[(row * 3)..<(row * 3 + 3)].reduce(0, +) - 1) < 1e-9) }
        let accuracy = try Metric.accuracy.evaluate(truth: test.multiclassTarget().values, predictions: probabilities, classCount: 3)
        #expect(accuracy > 0.9, "accuracy \(accuracy)")
    }

    @Test func seededTrainingIsDeterministicAndCodableRoundTripsExactly() throws {
        var parameters = GradientBoostingParameters()
        parameters.rounds = 40
        parameters.rowSubsample = 0.7
        parameters.columnSubsample = 0.75
        parameters.seed = 42
        let target = train.binaryTarget(seed: 3)
        let first = try GradientBoosting(parameters: parameters).fit(train.features, target: target)
        let second = try GradientBoosting(parameters: parameters).fit(train.features, target: target)
        #expect(first == second)
        parameters.seed = 43
        #expect(try GradientBoosting(parameters: parameters).fit(train.features, target: target) != first)
        let decoded = try JSONDecoder().decode(GradientBoostedModel.self, from: JSONEncoder().encode(first))
        #expect(try decoded.predict(test.features) == first.predict(test.features))
    }

    @Test func earlyStoppingKeepsTheBestRound() throws {
        var parameters = GradientBoostingParameters()
        parameters.rounds = 2000
        parameters.learningRate = 0.3
        parameters.earlyStoppingRounds = 20
        let validation = GradientBoosting.Validation(features: test.features, target: test.binaryTarget(seed: 4))
        let model = try GradientBoosting(parameters: parameters).fit(train.features, target: train.binaryTarget(seed: 3), validation: validation)
        #expect(model.stopReason == .earlyStopping)
        #expect(model.rounds < 2000 && model.trees.count == model.rounds)
    }

    @Test(.timeLimit(.minutes(1))) func deadlineIsKept() throws {
        var parameters = GradientBoostingParameters()
        parameters.rounds = 1_000_000
        let started = ContinuousClock.now
        let model = try GradientBoosting(parameters: parameters).fit(train.features, target: train.binaryTarget(seed: 3),
                                                                       deadline: started + .milliseconds(200))
        #expect(model.stopReason == .deadline)
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(try model.predict(test.features).allSatisfy { $0.isFinite })
    }

    @Test func unseenCategoriesAndAllMissingRowsPredict() throws {
        let model = try GradientBoosting().fit(train.features, target: train.binaryTarget(seed: 3))
        let odd = FeatureMatrix(rowCount: 2, kinds: train.features.kinds, values: [.nan, 1, .nan, 0, .nan, .nan, .nan, 999])
        let p = try model.predict(odd)
        #expect(p.count == 4 && p.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func badInputIsAClearError() throws {
        let target = train.binaryTarget(seed: 3)
        let gb = GradientBoosting()
        func message(_ body: () throws -> Void) -> String? { CSVFixtures.errorMessage(body) }
        #expect(message { _ = try gb.fit(FeatureMatrix(rowCount: 0, kinds: [.numeric], values: []), target: TargetEncoding(task: target.task, values: [])) } == "there are no rows to train on")
        let single = TargetEncoding(task: target.task, values: [Double](repeating: 1, count: 6000))
        #expect(message { _ = try gb.fit(train.features, target: single) } == "the target has a single class; a classifier needs at least two")
        #expect(message { _ = try gb.fit(train.features, target: target, weights: [Double](repeating: 0, count: 6000)) } == "all weights are zero")
        var weights = [Double](repeating: 1, count: 6000)
        weights[17] = -1
        #expect(message { _ = try gb.fit(train.features, target: target, weights: weights) } == "weight at row 18 is -1.0; weights must be finite and not negative")
        var parameters = GradientBoostingParameters()
        parameters.learningRate = 0
        #expect(message { _ = try GradientBoosting(parameters: parameters).fit(train.features, target: target) } == "learning rate must be positive, not 0.0")
        parameters = GradientBoostingParameters()
        parameters.objective = .l2
        #expect(message { _ = try GradientBoosting(parameters: parameters).fit(train.features, target: target) } == "objective l2 does not fit a binary task")
        let model = try gb.fit(train.features, target: target)
        let wrong = FeatureMatrix(rowCount: 1, kinds: [.numeric], values: [1])
        #expect(message { _ = try model.predict(wrong) }?.contains("the model was trained on 4") == true)
    }

    @Test func targetEncodingRejectsBadTargets() throws {
        let column = Column(name: "y", values: .numeric([1, .nan, 3]))
        #expect(CSVFixtures.errorMessage { _ = try TargetEncoding(column: column, task: LearningTask(kind: .regression)) }
            == "target 'y' has a missing value at row 2; drop or fix such rows before training")
        let infinite = Column(name: "y", values: .numeric([1, .infinity]))
        #expect(CSVFixtures.errorMessage { _ = try TargetEncoding(column: infinite, task: LearningTask(kind: .regression)) }?.contains("infinite value at row 2") == true)
    }

    @Test func featureEncoderMatchesLevelsByTextNotCode() throws {
        let trainFrame = try CSVFixtures.read("c,x\nred,1\nblue,2\nred,3\n")
        let encoder = try FeatureEncoder(frame: trainFrame, features: ["c", "x"])
        let later = try CSVFixtures.read("x,c,extra\n5,blue,z\n6,green,z\n7,red,z\n")
        let matrix = try encoder.encode(later)
        #expect(matrix.value(row: 0, feature: 0) == 1)
        #expect(matrix.value(row: 1, feature: 0).isNaN)
        #expect(matrix.value(row: 2, feature: 0) == 0)
        #expect(matrix.value(row: 2, feature: 1) == 7)
        #expect(throws: LearnError.self) { try encoder.encode(try CSVFixtures.read("c\nred\n")) }
    }
}
