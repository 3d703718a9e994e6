#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

@Suite struct EnsembleTests {
    @Test func selectionBlendsComplementaryPredictors() throws {
        var g = SeededGenerator(seed: 4)
        let n = 2000
        let signal = (0..<n).map { _ in g.nextUnit() * 4 - 2 }
        let truth = signal.map { g.nextUnit() < 1 / (1 + exp(-2 * $0)) ? 1.0 : 0.0 }
        let a = signal.map { $0 + (g.nextUnit() - 0.5) * 3 }
        let b = signal.map { $0 + (g.nextUnit() - 0.5) * 3 }
        let weak = signal.map { _ in g.nextUnit() }
        let choice = try #require(EnsembleSelection.select([(1, a), (2, b), (3, weak)], truth: truth, metric: .rocAUC, task: .binary,
                                                           outputs: 1, classCount: 2))
        #expect(choice.counts[1] != nil && choice.counts[2] != nil)
        #expect(choice.counts[3] == nil, "a useless model is never added")
        #expect(choice.score > choice.bestSingleScore + 0.01, "blend \(choice.score) vs single \(choice.bestSingleScore)")
    }

    @Test func ensembleBlendsMarginsAndRoundTrips() throws {
        let train = SyntheticTable(rows: 1500, seed: 1)
        let test = SyntheticTable(rows: 300, seed: 2)
        let target = train.binaryTarget(seed: 3)
        var boosting = GradientBoostingParameters()
        boosting.rounds = 30
        let first = try Learner.gradientBoosting(boosting).fit(train.features, target: target)
        let second = try Learner.linear(LinearParameters()).fit(train.features, target: target)
        let ensemble = try EnsembleModel(task: .binary, outputs: 1, members: [first, second], weights: [0.25, 0.75])
        let expected = zip(try first.rawScores(test.features, task: .binary), try second.rawScores(test.features, task: .binary)).map { 0.25 * $0 + 0.75 * $1 }
        #expect(try ensemble.rawScores(test.features) == expected)
        let model = FittedModel.ensemble(ensemble)
        let decoded = try JSONDecoder().decode(FittedModel.self, from: JSONEncoder().encode(model))
        #expect(try decoded.predict(test.features) == model.predict(test.features))
        #expect(throws: LearnError.self) { try EnsembleModel(task: .binary, outputs: 1, members: [first], weights: [0.5]) }
    }
}
