import Foundation
import KeelData

/// What humility rules would have done on a model's holdout, and thresholds that flag about a chosen share
/// of it: `keel models humility NAME [--recommend] [--flag-rate 0.05]`.
public struct HumilityCheck: Sendable, Encodable {
    /// One rule on the holdout.
    public struct Effect: Sendable, Encodable {
        public var rule: HumilityRule
        public var condition: String
        public var flagged: Int
        public var share: Double
        /// Up to three of the flags it raised, as examples.
        public var examples: [String]
    }

    public var holdoutRows: Int
    /// True when the model was refitted on all rows (`--refit-full`), so it has seen the holdout.
    public var modelSawHoldout: Bool
    public var rules: [Effect]
    /// With a flag rate: one suggested rule per trigger the model supports, each with what it flags.
    public var recommended: [Effect]?
    public var flagRate: Double?
    public var notes: [String]

    /// Runs `rules` on `holdout` and, given `flagRate`, suggests a threshold per trigger.
    public static func run(model: TrainedModel, rules: [HumilityRule], holdout: Frame, flagRate: Double?) throws -> HumilityCheck {
        let guardian = try HumilityGuard(model: model, rules: rules)
        let predictions = try model.predictor.predict(holdout)
        let warnings = InputExpectations(model).warnings(holdout)
        let n = predictions.count
        func effects(_ guardian: HumilityGuard) -> [Effect] {
            let outcomes = guardian.evaluate(holdout, predictions: predictions, warnings: warnings)
            return guardian.rules.map { rule in
                let flags = outcomes.compactMap { $0.flags.first { $0.rule == rule.name } }
                return Effect(rule: rule, condition: rule.condition, flagged: flags.count, share: n > 0 ? Double(flags.count) / Double(n) : 0,
                              examples: flags.prefix(3).map(\.reason))
            }
        }
        var check = HumilityCheck(holdoutRows: n, modelSawHoldout: model.provenance.refittedOnAllRows, rules: effects(guardian),
                                  recommended: nil, flagRate: flagRate, notes: guardian.notes)
        guard let rate = flagRate, n > 0 else { return check }
        var suggested: [HumilityRule] = []
        if guardian.isClassifier {
            // The top probability's `rate` quantile: about that share of rows fall below it.
            let tops = predictions.map { $0.probabilities.max() ?? 1 }
            if let t = HumilityGuard.quantile(tops, rate), t > 1 / Double(max(guardian.classes.count, 1)) {
                suggested.append(HumilityRule(name: "uncertain", trigger: .uncertain, action: .flag, maxProbabilityBelow: Self.rounded(t, up: true)))
            } else {
                check.notes.append("uncertain: fewer than \(Self.percent(rate)) of the holdout's predictions are anywhere near a tie; no threshold flags that many")
            }
        }
        if let density = guardian.density {
            let near = density.nearRows(holdout)
            let k = density.featureCount
            let scores = density.outlierScores(nearRows: near, rowCount: n)
            if let s = HumilityGuard.quantile(scores, 1 - rate) {
                suggested.append(HumilityRule(name: "outlying", trigger: .outlying, action: .flag, outlierScoreAbove: Self.rounded(s, up: false)))
            }
            if k > 0 {
                let sparsest = (0..<n).map { row in (0..<k).map { near[row * k + $0] }.min()! }
                if let m = HumilityGuard.quantile(sparsest, rate), m.rounded(.up) >= 1 {
                    suggested.append(HumilityRule(name: "low_density", trigger: .lowDensity, action: .flag, minTrainingRows: m.rounded(.up)))
                }
            }
        } else {
            check.notes.append("outlying and low_density: the model file keeps no training profile; train it again to use them")
        }
        check.recommended = effects(try HumilityGuard(model: model, rules: suggested))
        return check
    }

    /// Three significant digits, rounded away from the rows just past the threshold.
    static func rounded(_ x: Double, up: Bool) -> Double {
        guard x != 0, x.isFinite else { return x }
        let scale = pow(10, 2 - floor(log10(abs(x))))
        return (up ? (x * scale).rounded(.up) : (x * scale).rounded(.down)) / scale
    }

    static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
}
