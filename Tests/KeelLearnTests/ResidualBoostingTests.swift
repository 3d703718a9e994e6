import Foundation
import KeelData
@testable import KeelLearn
import KeelTestSupport
import Testing

/// Boosted trees on a linear base: the trees fit what the line leaves, the pair predicts as their sum, and
/// the pair is an ordinary stacked ensemble for saving and blending.
struct ResidualBoostingTests {
    /// A steep linear trend in two features plus the synthetic table's curved part: the kind of target that
    /// trees with few leaves can only follow in steps.
    private func trendTarget(_ table: SyntheticTable, seed: UInt64) -> TargetEncoding {
        let base = table.regressionTarget(seed: seed)
        let n = table.features.rowCount
        let values = (0..<n).map { i in base.values[i] + 8 * table.features.values[i] - 6 * table.features.values[n + i] }
        return TargetEncoding(task: base.task, values: values)
    }

    private func parameters(linearBase: Bool) -> GradientBoostingParameters {
        var p = GradientBoostingParameters()
        p.rounds = 60
        p.maxLeaves = 4
        p.learningRate = 0.1
        if linearBase {
            var linear = LinearParameters()
            linear.lambda = 1e-3
            p.linearBase = linear
        }
        return p
    }

    @Test func treesOnALinearBaseBeatTreesAloneOnATrend() throws {
        let train = SyntheticTable(rows: 3000, seed: 11)
        let test = SyntheticTable(rows: 2000, seed: 12)
        let (y, yt) = (trendTarget(train, seed: 13), trendTarget(test, seed: 14))
        let plain = try Learner.gradientBoosting(parameters(linearBase: false)).fit(train.features, target: y)
        let residual = try Learner.gradientBoosting(parameters(linearBase: true)).fit(train.features, target: y)
        let plainRMSE = try Metric.rmse.evaluate(truth: yt.values, predictions: plain.predict(test.features), classCount: 0)
        let residualRMSE = try Metric.rmse.evaluate(truth: yt.values, predictions: residual.predict(test.features), classCount: 0)
        #expect(residualRMSE < plainRMSE * 0.7, "RMSE: residual \(residualRMSE), plain \(plainRMSE)")

        guard case .ensemble(let stack) = residual, stack.members.count == 2,
              case .linear(let linear) = stack.members[0], case .gradientBoosting(let trees) = stack.members[1] else {
            Issue.record("a residual model is a stack of a linear model and boosted trees, not \(residual.kindName)")
            return
        }
        #expect(stack.weights == [1, 1] && stack.intercepts == [0])
        // The trees start from the line's margins, not from a constant of their own.
        #expect(trees.initialScores == [0])
        let sum = zip(try linear.rawScores(test.features), try trees.rawScores(test.features)).map(+)
        #expect(zip(sum, try residual.predict(test.features)).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test func baseMarginsAreWhereTheTreesStart() throws {
        let table = SyntheticTable(rows: 1500, seed: 21)
        let y = table.regressionTarget(seed: 22)
        // Boosting from the target itself leaves nothing to fit: every split gains nothing, the trees are stumps.
        let exact = try GradientBoosting(parameters: parameters(linearBase: false))
            .fit(table.features, target: y, base: GradientBoosting.BaseMargins(train: y.values))
        #expect(exact.trees.allSatisfy { $0.nodeCount == 1 })
        #expect(throws: LearnError.self) {
            try GradientBoosting(parameters: parameters(linearBase: false))
                .fit(table.features, target: y, base: GradientBoosting.BaseMargins(train: Array(y.values.dropLast())))
        }
        var infinite = y.values
        infinite[3] = .infinity
        #expect(throws: LearnError.self) {
            try GradientBoosting(parameters: parameters(linearBase: false)).fit(table.features, target: y, base: GradientBoosting.BaseMargins(train: infinite))
        }
    }

    @Test func multiclassMarginsLineUpPerClass() throws {
        let train = SyntheticTable(rows: 2000, seed: 31)
        let test = SyntheticTable(rows: 800, seed: 32)
        let y = train.multiclassTarget()
        var p = parameters(linearBase: true)
        p.earlyStoppingRounds = 10
        p.rounds = 300
        let inner = Array(0..<1600)
        let stop = Array(1600..<2000)
        let validation = GradientBoosting.Validation(features: train.features.selecting(rows: stop),
                                                     target: TargetEncoding(task: y.task, values: stop.map { y.values[$0] }))
        let model = try Learner.gradientBoosting(p).fit(train.features.selecting(rows: inner),
                                                         target: TargetEncoding(task: y.task, values: inner.map { y.values[$0] }),
                                                         validation: validation)
        guard case .ensemble(let stack) = model, case .linear(let linear) = stack.members[0], case .gradientBoosting(let trees) = stack.members[1] else {
            Issue.record("expected a linear-plus-trees stack")
            return
        }
        #expect(trees.rounds < 300, "early stopping judged the sum of both models")
        let sum = zip(try linear.rawScores(test.features), try trees.rawScores(test.features)).map(+)
        #expect(zip(sum, try stack.rawScores(test.features)).allSatisfy { abs($0 - $1) < 1e-9 })
        let truth = test.multiclassTarget().values
        let accuracy = try Metric.accuracy.evaluate(truth: truth, predictions: model.predict(test.features), classCount: 3)
        let linearAccuracy = try Metric.accuracy.evaluate(truth: truth, predictions: linear.predict(test.features), classCount: 3)
        #expect(accuracy > linearAccuracy + 0.02, "accuracy: residual \(accuracy), linear alone \(linearAccuracy)")
    }

    @Test func monotoneConstraintsBindTheLineAndTheTrees() throws {
        let table = SyntheticTable(rows: 1500, seed: 51)
        let n = table.features.rowCount
        // The target falls with feature 1 overall, but constrained to rise with it, neither part may fall.
        let y = TargetEncoding(task: LearningTask(kind: .regression),
                               values: (0..<n).map { 2 * table.features.values[$0] - 3 * table.features.values[n + $0] })
        var p = parameters(linearBase: true)
        p.monotoneConstraints = [0, 1, 0, 0]
        let model = try Learner.gradientBoosting(p).fit(table.features, target: y)
        var probe = table.features.selecting(rows: Array(repeating: 7, count: 41))
        for i in 0..<41 { probe.values[41 + i] = -2 + Double(i) / 10 }  // column-major: feature 1 of 41 rows
        let predictions = try model.predict(probe)
        #expect(zip(predictions, predictions.dropFirst()).allSatisfy { $0 <= $1 + 1e-9 }, "\(predictions)")
    }

    @Test func aResidualModelNestsInABlendAndSurvivesEncoding() throws {
        let table = SyntheticTable(rows: 1000, seed: 41)
        let y = trendTarget(table, seed: 42)
        let residual = try Learner.gradientBoosting(parameters(linearBase: true)).fit(table.features, target: y)
        let plain = try Learner.gradientBoosting(parameters(linearBase: false)).fit(table.features, target: y)
        let blend = try EnsembleModel(task: .regression, outputs: 1, members: [residual, plain], weights: [0.5, 0.5])
        let decoded = try JSONDecoder().decode(FittedModel.self, from: JSONEncoder().encode(FittedModel.ensemble(blend)))
        #expect(decoded == .ensemble(blend))
        let expected = zip(try residual.predict(table.features), try plain.predict(table.features)).map { 0.5 * $0 + 0.5 * $1 }
        #expect(zip(expected, try decoded.predict(table.features)).allSatisfy { abs($0 - $1) < 1e-9 })
        // No deeper than that: a blend of blends is refused.
        #expect(throws: LearnError.self) {
            try EnsembleModel(task: .regression, outputs: 1, members: [.ensemble(blend), plain], weights: [0.5, 0.5])
        }
    }
}
