import Foundation
import KeelData
import KeelExplain
import KeelLearn
import KeelSearch
import KeelTestSupport
import Testing

/// Every model the search can ship holds the same invariants: finite predictions, finite attributions that
/// add up to the margin for every class, TreeSHAP equal to Shapley values by definition, explanation JSON
/// without NaN or null numbers, and a model file that predicts identically. The configurations are read
/// from `SearchSpace`, which reads the portfolio, so a new one is covered without editing this suite; the
/// ensembles are assembled as the search assembles them (a blend with a nested linear-base stack, a
/// stacked layer, a seed bag), and classifiers are also checked under every calibration.
@Suite struct ModelInvariantTests {
    @Test(arguments: TaskKind.allCases)
    func everyConfigurationTheSearchCanShipHoldsTheInvariants(task: TaskKind) throws {
        let data = try InvariantData(task: task)
        let prepared = try data.prepare()
        #expect(prepared.schema.columns.contains { $0.kind == .text }, "the table has a text column")
        #expect(data.score.rowCount == 60)
        let outputs = task == .multiclass ? 3 : 1
        let configurations = SearchSpace.configurations(task: task, outputs: outputs, kinds: prepared.x.kinds)
        let families = Set(configurations.map(\.family))
        #expect(families == Set(SearchSettings.learnerFamilies), "every family is in the search space: \(families)")
        #expect(configurations.contains { if case .gradientBoosting(let p) = $0.learner { p.symmetricDepth != nil } else { false } } == (task != .multiclass))

        var problems: [String] = []
        var fitted: [(label: String, family: String, learner: Learner, model: FittedModel)] = []
        for configuration in configurations {
            let label = "\(task) \(configuration.family) (\(configuration.summary))"
            let learner = ModelInvariants.affordable(configuration.learner)
            let model = try learner.fit(prepared.x, target: prepared.y)
            fitted.append((label, configuration.family, learner, model))
            problems += ModelInvariants.violations(ModelInvariants.trained(model, prepared: prepared), scoring: data.score, label: label)
            problems += ModelInvariants.treeViolations(model, matrix: prepared.x, label: label)
        }

        // A blend of one model of each family (boosting on a linear base nests inside it), and the same
        // members under a stacked layer's free weights and intercept.
        var members: [FittedModel] = []
        var seenFamilies: Set<String> = []
        for item in fitted where seenFamilies.insert(item.family).inserted { members.append(item.model) }
        if let onLinearBase = fitted.first(where: { if case .ensemble = $0.model { true } else { false } }) { members.append(onLinearBase.model) }
        let weights = members.map { _ in 1 / Double(members.count) }
        let blend = FittedModel.ensemble(try EnsembleModel(task: task, outputs: outputs, members: members, weights: weights))
        problems += ModelInvariants.violations(ModelInvariants.trained(blend, prepared: prepared), scoring: data.score, label: "\(task) blend")
        let stack = FittedModel.ensemble(try EnsembleModel(task: task, outputs: outputs, members: members,
                                                          weights: members.indices.map { 0.2 + 0.1 * Double($0) },
                                                          intercepts: (0..<outputs).map { 0.3 - 0.2 * Double($0) }))
        problems += ModelInvariants.violations(ModelInvariants.trained(stack, prepared: prepared), scoring: data.score, label: "\(task) stack")

        // A seed bag of a sampled boosting configuration, as the search averages it.
        let sampled = try #require(fitted.first { if case .gradientBoosting(let p) = $0.learner { p.rowSubsample < 1 && p.linearBase == nil } else { false } })
        let bag = try SearchSpace.seedBag(sampled.learner, seeds: SeedStream(7)).map { try $0.fit(prepared.x, target: prepared.y) }
        let bagged = FittedModel.ensemble(try EnsembleModel(task: task, outputs: outputs, members: bag, weights: bag.map { _ in 1 / Double(bag.count) }))
        problems += ModelInvariants.violations(ModelInvariants.trained(bagged, prepared: prepared), scoring: data.score, label: "\(task) seed bag")

        // Every calibration a classifier can ship with, fitted on the blend's margins.
        if task != .regression {
            let margins = try blend.rawScores(prepared.x, task: task)
            let calibrations: [Calibration] = task == .binary
                ? [.platt(margins: margins, labels: prepared.y.values), .isotonic(margins: margins, labels: prepared.y.values)]
                : [.temperature(margins: margins, labels: prepared.y.values, classes: outputs)]
            for calibration in calibrations {
                problems += ModelInvariants.violations(ModelInvariants.trained(blend, prepared: prepared, calibration: calibration),
                                                       scoring: data.score, label: "\(task) blend, \(calibration.name) calibration")
            }
        }
        #expect(problems.isEmpty, "\(problems.count) violations:\n\(problems.prefix(40).joined(separator: "\n"))")
    }

    /// The suite's own checks catch what they are for: a model whose attributions do not add up, and JSON
    /// with a non-finite number.
    @Test func theChecksCatchBrokenExplanations() throws {
        let document: [String: Any] = ["rows": [["base": 0.5, "attributions": ["a": NSNull()]]]]
        #expect(ModelInvariants.nonFiniteForTests(document) == "null at .rows[0].attributions.a")
        #expect(ModelInvariants.nonFiniteForTests(["x": "nan"]) == "\"nan\" at .x")
        #expect(ModelInvariants.nonFiniteForTests(["x": [1.5, 2]]) == nil)
    }
}
