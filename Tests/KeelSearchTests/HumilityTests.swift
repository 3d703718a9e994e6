import Foundation
import KeelData
import KeelLearn
import KeelSearch
import KeelTestSupport
import Testing

/// Humility rules on their own: read and checked against the model with errors naming the key, fired on
/// crafted rows, and recommended from the holdout so that about the asked share is flagged.
@Suite struct HumilityTests {
    static func rules(_ json: String) throws -> [HumilityRule] {
        try HumilityRule.named(try JSONDecoder().decode([HumilityRule].self, from: Data(json.utf8)))
    }

    static func decodingError(_ json: String) -> String {
        do {
            _ = try rules(json)
            return ""
        } catch let error as DecodingError {
            switch error {
            case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                return context.codingPath.map(\.stringValue).joined(separator: ".") + ": " + context.debugDescription
            @unknown default: return "\(error)"
            }
        } catch {
            return "\(error)"
        }
    }

    @Test func badRulesAreRefusedNamingTheirKey() {
        let cases: [(String, String, String)] = [
            (#"[{"trigger":"unsure","action":"flag"}]"#, "trigger", "unknown trigger 'unsure'"),
            (#"[{"trigger":"outlying","action":"shout"}]"#, "action", "unknown action 'shout'"),
            (#"[{"trigger":"uncertain","action":"flag","max_probability_below":1.5}]"#, "max_probability_below", "at most 1"),
            (#"[{"trigger":"uncertain","action":"flag"}]"#, "max_probability_below", "needs max_probability_below"),
            (#"[{"trigger":"low_density","action":"flag","min_training_rows":0}]"#, "min_training_rows", "at least 1"),
            (#"[{"trigger":"outlying","action":"flag","min_training_rows":5}]"#, "min_training_rows", "not a setting of trigger outlying"),
            (#"[{"trigger":"outlying","action":"override"}]"#, "value", "needs value"),
            (#"[{"trigger":"outlying","action":"flag","value":"yes"}]"#, "value", "only for action override"),
            (#"[{"trigger":"outlying","action":"flag","colour":"red"}]"#, "colour", "unknown key 'colour'"),
        ]
        for (json, key, words) in cases {
            let message = Self.decodingError(json)
            #expect(message.contains(key) && message.contains(words), "\(json) → \(message)")
        }
        #expect(Self.decodingError(#"[{"trigger":"outlying","action":"flag","name":"a"},{"trigger":"outlying","action":"flag","name":"a"}]"#)
            .contains("two rules are named 'a'"))
    }

    @Test func rulesThatDoNotFitTheModelAreRefusedNamingTheirPlace() throws {
        let model = TrainedChurn.shared.good.model
        func refusal(_ json: String) -> String {
            do {
                _ = try HumilityGuard(model: model, rules: try Self.rules(json))
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(#"[{"trigger":"outlying","action":"flag"},{"trigger":"uncertain","action":"override","max_probability_below":0.6,"value":"maybe"}]"#)
            .contains("humility[1].value: 'maybe' is not a class of this model (its classes: no, yes)"))
        #expect(refusal(#"[{"trigger":"uncertain","action":"flag","max_probability_below":0.5}]"#).contains("humility[0].max_probability_below: 0.5 never fires"))
        #expect(refusal(#"[{"trigger":"low_density","action":"flag","min_training_rows":100000}]"#).contains("humility[0].min_training_rows"))
        #expect(refusal(#"[{"trigger":"uncertain","action":"override","max_probability_below":0.6,"value":"yes"}]"#).isEmpty)

        var regression = model
        regression.predictor.schema.task = LearningTask(kind: .regression)
        #expect(throws: HumilityError.invalid(key: "humility[0].trigger", "trigger uncertain needs class probabilities, and this is a regression model")) {
            try HumilityGuard(model: regression, rules: try Self.rules(#"[{"trigger":"uncertain","action":"flag","max_probability_below":0.6}]"#))
        }
        var old = model
        old.profile = nil
        #expect(refusal(#"[{"trigger":"low_density","action":"flag","min_training_rows":5}]"#).isEmpty)
        #expect(throws: HumilityError.self) {
            try HumilityGuard(model: old, rules: try Self.rules(#"[{"trigger":"low_density","action":"flag","min_training_rows":5}]"#))
        }
        let noted = try HumilityGuard(model: old, rules: try Self.rules(#"[{"trigger":"outlying","action":"flag"}]"#))
        #expect(noted.notes.first?.contains("keeps no training profile") == true)
    }

    @Test func uncertainFlagsExactlyTheRowsBelowItsThresholdAndOverrideReplacesOnlyTheLabel() throws {
        let outcome = TrainedChurn.shared.good
        let model = outcome.model
        let guardian = try HumilityGuard(model: model, rules: try Self.rules(
            #"[{"trigger":"uncertain","action":"flag","max_probability_below":0.8},{"trigger":"uncertain","action":"override","max_probability_below":0.7,"value":"yes"}]"#))
        let predictions = try model.predictor.predict(outcome.holdout)
        let outcomes = guardian.evaluate(outcome.holdout, predictions: predictions, warnings: InputExpectations(model).warnings(outcome.holdout))
        let replaced = guardian.applying(outcomes, to: predictions)
        var flagged = 0
        for (row, prediction) in predictions.enumerated() {
            let top = prediction.probabilities.max()!
            #expect(outcomes[row].flags.map(\.rule) == (top < 0.8 ? ["uncertain#1"] : []) + (top < 0.7 ? ["uncertain#2"] : []))
            #expect(replaced[row].label == (top < 0.7 ? "yes" : prediction.label))
            #expect(replaced[row].probabilities == prediction.probabilities, "an override replaces the prediction, not the model's probabilities")
            if top < 0.7 {
                let said = prediction.label == "yes" ? "the override 'yes' is what the model predicted" : "the model's prediction 'no' was replaced by 'yes'"
                #expect(outcomes[row].flags.last?.reason.contains(said) == true, "\(outcomes[row].flags)")
            }
            flagged += top < 0.8 ? 1 : 0
        }
        #expect(flagged > 0 && flagged < predictions.count, "the threshold splits the holdout (\(flagged) of \(predictions.count))")
    }

    @Test func outlyingFiresOnRangesUnseenLevelsAndRareRowsButNotOnTypicalOnes() throws {
        let outcome = TrainedChurn.shared.good
        let model = outcome.model
        let scores = try #require(model.profile?.outlierScores, "training keeps the holdout's outlier scores")
        #expect(scores.count == outcome.holdout.rowCount)
        let guardian = try HumilityGuard(model: model, rules: try Self.rules(#"[{"trigger":"outlying","action":"flag"}]"#))
        let threshold = try #require(guardian.holdoutOutlierThreshold)
        let density = try #require(guardian.density)
        // On the holdout, the score alone flags about 0.5% (its 99.5th percentile).
        let holdoutScores = density.outlierScores(outcome.holdout)
        #expect(Double(holdoutScores.filter { $0 > threshold }.count) <= 0.01 * Double(holdoutScores.count) + 1)

        let base = outcome.holdout.selecting(rows: [0])
        func row(_ edit: (inout Frame) throws -> Void) throws -> [HumilityFlag] {
            var frame = base
            try edit(&frame)
            let predictions = try model.predictor.predict(frame)
            return guardian.evaluate(frame, predictions: predictions, warnings: InputExpectations(model).warnings(frame))[0].flags
        }
        let fee = try row { try $0.replace(Column(name: "monthly_fee", values: .numeric([1e6]))) }
        #expect(fee.first?.reason.contains("outside the training range of 'monthly_fee'") == true, "\(fee)")
        let plan = try row { try $0.replace(Column(name: "plan", values: .categorical(EncodedStrings(codes: [0], levels: ["platinum"])))) }
        #expect(plan.first?.reason.contains("'platinum' is not a level of 'plan'") == true, "\(plan)")
        // Every numeric feature at the sparser end of its range, within it: no range flag, but a rare row.
        var edges = base
        for column in model.profile!.columns where column.kind == .numeric {
            guard let low = column.minimum, let high = column.maximum, let current = edges[column.name], case .numeric = current.values else { continue }
            let h = TrainingDensity.bandwidth(column.sample.sorted())
            let nearLow = column.sample.filter { abs($0 - low) <= h }.count, nearHigh = column.sample.filter { abs($0 - high) <= h }.count
            try edges.replace(Column(name: column.name, values: .numeric([nearLow <= nearHigh ? low : high])))
        }
        let rare = guardian.evaluate(edges, predictions: try model.predictor.predict(edges), warnings: InputExpectations(model).warnings(edges))[0].flags
        #expect(rare.first?.reason.contains("outlier score") == true, "\(rare)")
        // The holdout's most typical row fires nothing.
        let typical = holdoutScores.indices.min { holdoutScores[$0] < holdoutScores[$1] }!
        let quiet = outcome.holdout.selecting(rows: [typical])
        #expect(guardian.evaluate(quiet, predictions: try model.predictor.predict(quiet), warnings: InputExpectations(model).warnings(quiet))[0].flags.isEmpty)
    }

    @Test func lowDensityCountsTheTrainingRowsNearEachValue() throws {
        let data = TrainedChurn.shared
        let model = data.good.model
        let density = try #require(TrainingDensity(model))
        let profile = try #require(model.profile)
        // The 600-row sample is smaller than the profile's sample, so counts are exact: check them against
        // the training rows themselves.
        let reference = try #require(profile.columns.first { $0.name == "tenure_months" })
        let values = reference.sample
        let h = TrainingDensity.bandwidth(values.sorted())
        #expect(h > 0)
        let frame = data.good.holdout.selecting(rows: Array(0..<20))
        let near = density.nearRows(frame)
        let f = try #require((0..<density.featureCount).first { density.describe(frame, row: 0, feature: $0).feature == "tenure_months" })
        for row in 0..<frame.rowCount {
            let x = frame["tenure_months"]!.numbers[row]
            let expected = x.isNaN ? Double(reference.missing) : Double(values.filter { abs($0 - x) <= h }.count)
            #expect(abs(near[row * density.featureCount + f] - expected) < 1e-9, "row \(row): \(near[row * density.featureCount + f]) vs \(expected)")
        }
        let guardian = try HumilityGuard(model: model, rules: try Self.rules(#"[{"trigger":"low_density","action":"flag","min_training_rows":1}]"#))
        var lonely = frame.selecting(rows: [0])
        try lonely.replace(Column(name: "region", values: .categorical(EncodedStrings(codes: [0], levels: ["atlantis"]))))
        let flags = guardian.evaluate(lonely, predictions: try model.predictor.predict(lonely), warnings: InputExpectations(model).warnings(lonely))[0].flags
        #expect(flags.first?.reason.contains("0 of \(profile.rows) training rows had 'region' = 'atlantis'") == true, "\(flags)")
    }

    @Test func recommendedThresholdsFlagAboutTheAskedShareOfTheHoldout() throws {
        let outcome = TrainedChurn.shared.good
        let check = try HumilityCheck.run(model: outcome.model, rules: try Self.rules(#"[{"trigger":"uncertain","action":"review","max_probability_below":0.9}]"#),
                                          holdout: outcome.holdout, flagRate: 0.1)
        #expect(check.rules.count == 1)
        let tops = try outcome.model.predictor.predict(outcome.holdout).map { $0.probabilities.max()! }
        #expect(check.rules[0].flagged == tops.filter { $0 < 0.9 }.count)
        let recommended = try #require(check.recommended)
        #expect(Set(recommended.map(\.rule.trigger)) == [.uncertain, .outlying, .lowDensity])
        let n = Double(check.holdoutRows)
        for effect in recommended {
            switch effect.rule.trigger {
            case .uncertain:
                #expect(abs(effect.share - 0.1) <= 2 / n + 0.02, "uncertain flags \(effect.share)")
            case .outlying:
                #expect(effect.share >= 0.1 - 2 / n && effect.share <= 0.1 + 0.05, "outlying flags \(effect.share)")
            case .lowDensity:
                #expect(effect.share <= 0.1 + 0.02, "low_density flags \(effect.share)")
            }
        }
    }
}
