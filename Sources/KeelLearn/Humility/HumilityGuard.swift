import Foundation
import KeelData

/// A model's humility rules, checked against the model when loaded and applied to every prediction: which
/// rules fire on each row, the override that replaces a prediction, the rule that refuses a row. The same
/// guard serves `keel serve`, `keel predict` and `keel models humility`, so they flag the same rows.
public struct HumilityGuard: Sendable {
    public let rules: [HumilityRule]
    public let density: TrainingDensity?
    /// The outlier score above which `outlying` fires when a rule gives none: the holdout's 99.5th
    /// percentile, kept in the model; nil in models from before it was kept.
    public let holdoutOutlierThreshold: Double?
    /// What the rules cannot do for this model, to be said where they are loaded.
    public let notes: [String]
    let classes: [String]
    let isClassifier: Bool

    /// The quantile of the holdout's outlier scores that `outlying` uses by default.
    public static let outlierQuantile = 0.995

    /// Checks `rules` against `model` (keys in errors are `humility[i].…`, i from 0): `uncertain` needs a
    /// classifier and a threshold some prediction can fall below; an override's value must be a class of the
    /// model or, for regression, a number; `low_density` needs the model's training profile.
    public init(model: TrainedModel, rules: [HumilityRule], density: TrainingDensity? = nil) throws {
        let rules = try HumilityRule.named(rules)
        let task = model.schema.task
        classes = task?.classes ?? []
        isClassifier = task?.kind != .regression
        self.density = density ?? TrainingDensity(model)
        holdoutOutlierThreshold = model.profile?.outlierScores.flatMap { Self.quantile($0.sample, Self.outlierQuantile) }
        var notes: [String] = []
        for (i, rule) in rules.enumerated() {
            let key = "humility[\(i)]"
            switch rule.trigger {
            case .uncertain:
                guard isClassifier else {
                    throw HumilityError.invalid(key: key + ".trigger", "trigger uncertain needs class probabilities, and this is a regression model")
                }
                let floor = 1 / Double(max(classes.count, 1))
                if let t = rule.maxProbabilityBelow, t <= floor {
                    throw HumilityError.invalid(key: key + ".max_probability_below",
                                                "\(NumberFormatting.canonical(t)) never fires: with \(classes.count) classes the top probability is at least \(NumberFormatting.canonical(floor))")
                }
            case .lowDensity:
                guard let density = self.density else {
                    throw HumilityError.invalid(key: key + ".trigger", "trigger low_density needs the training profile the model file keeps, and this file has none (it predates it); train the model again")
                }
                if let m = rule.minTrainingRows, let rows = density.trainingRows, m > Double(rows) {
                    throw HumilityError.invalid(key: key + ".min_training_rows",
                                                "\(NumberFormatting.canonical(m)) is more than the \(rows) training rows: every prediction would fire")
                }
            case .outlying:
                if self.density == nil {
                    notes.append("\(rule.name): the model file keeps no training profile, so outlying checks nothing; train the model again")
                } else if rule.outlierScoreAbove == nil, holdoutOutlierThreshold == nil {
                    notes.append("\(rule.name): the model file keeps no holdout outlier scores (it predates them), so outlying checks training ranges and levels only; set outlier_score_above or train again")
                }
            }
            if rule.action == .override, let value = rule.value {
                if isClassifier {
                    guard classes.contains(value) else {
                        throw HumilityError.invalid(key: key + ".value", "'\(value)' is not a class of this model (its classes: \(classes.joined(separator: ", ")))")
                    }
                } else if !(Double(value.trimmingCharacters(in: .whitespaces))?.isFinite ?? false) {
                    throw HumilityError.invalid(key: key + ".value", "'\(value)' is not a number, and this is a regression model")
                }
            }
        }
        self.rules = rules
        self.notes = notes
    }

    /// What the rules did to one row.
    public struct Outcome: Sendable, Equatable {
        /// Every rule that fired, in the rules' order.
        public var flags: [HumilityFlag] = []
        /// The prediction the first firing `override` rule put in place of the model's.
        public var override: String?
        /// The first firing `error` rule: the row gets no prediction.
        public var error: HumilityFlag?
        /// True when a `review` rule fired: the row goes to the review queue.
        public var review: Bool { flags.contains { $0.action == .review } }
    }

    /// Applies every rule to every row. `warnings` are the rows' input warnings (`InputExpectations`), which
    /// `outlying` reads for ranges and levels.
    public func evaluate(_ frame: Frame, predictions: [Predictor.Prediction], warnings: [[InputWarning]]) -> [Outcome] {
        let n = predictions.count
        var outcomes = [Outcome](repeating: Outcome(), count: n)
        guard !rules.isEmpty, n > 0 else { return outcomes }
        let needsDensity = density != nil && rules.contains { $0.trigger == .lowDensity || $0.trigger == .outlying }
        let near = needsDensity ? density!.nearRows(frame) : []
        let k = density?.featureCount ?? 0
        let scores = needsDensity && rules.contains(where: { $0.trigger == .outlying }) ? density!.outlierScores(nearRows: near, rowCount: n) : []
        for row in 0..<n {
            for rule in rules {
                guard var reason = reason(rule, row: row, frame: frame, prediction: predictions[row], warnings: warnings[row],
                                          near: near, k: k, scores: scores) else { continue }
                if rule.action == .override { reason += Self.overridden(predictions[row], rule) }
                let flag = HumilityFlag(rule: rule.name, trigger: rule.trigger, action: rule.action, reason: reason)
                outcomes[row].flags.append(flag)
                if rule.action == .override, outcomes[row].override == nil { outcomes[row].override = rule.value }
                if rule.action == .error, outcomes[row].error == nil { outcomes[row].error = flag }
            }
        }
        return outcomes
    }

    /// Why `rule` fires on the row, or nil when it does not.
    private func reason(_ rule: HumilityRule, row: Int, frame: Frame, prediction: Predictor.Prediction, warnings: [InputWarning],
                        near: [Double], k: Int, scores: [Double]) -> String? {
        switch rule.trigger {
        case .uncertain:
            guard let t = rule.maxProbabilityBelow, let top = prediction.probabilities.max(), top < t else { return nil }
            return "the top probability \(Self.shown(top)) (class '\(prediction.label)') is below \(NumberFormatting.canonical(t))"
        case .outlying:
            if let warning = warnings.first(where: { $0.code == .unseenLevel || $0.code == .outOfRange }) { return warning.message }
            guard !scores.isEmpty, let threshold = rule.outlierScoreAbove ?? holdoutOutlierThreshold, scores[row] > threshold else { return nil }
            let detail = sparsest(row, near: near, k: k).flatMap { f in density.map { "; its rarest value: " + Self.describe($0.describe(frame, row: row, feature: f)) } } ?? ""
            let source = rule.outlierScoreAbove == nil ? " (the holdout's 99.5th percentile)" : ""
            return "the row's outlier score \(Self.shown(scores[row])) is above \(Self.shown(threshold))\(source)\(detail)"
        case .lowDensity:
            guard let m = rule.minTrainingRows, let density, let f = sparsest(row, near: near, k: k), near[row * k + f] < m else { return nil }
            return Self.describe(density.describe(frame, row: row, feature: f)) + " (the rule asks for at least \(NumberFormatting.canonical(m)))"
        }
    }

    /// The feature with the fewest training rows near the row's value (nil without features).
    private func sparsest(_ row: Int, near: [Double], k: Int) -> Int? {
        (0..<k).min { near[row * k + $0] < near[row * k + $1] }
    }

    /// What an override did, in words.
    static func overridden(_ prediction: Predictor.Prediction, _ rule: HumilityRule) -> String {
        let value = rule.value ?? ""
        return prediction.label == value ? "; the override '\(value)' is what the model predicted" : "; the model's prediction '\(prediction.label)' was replaced by '\(value)'"
    }

    /// The predictions with each row's override in place of the model's.
    public func applying(_ outcomes: [Outcome], to predictions: [Predictor.Prediction]) -> [Predictor.Prediction] {
        zip(predictions, outcomes).map { prediction, outcome in
            guard let value = outcome.override else { return prediction }
            var replaced = prediction
            replaced.label = value
            if !isClassifier { replaced.value = Double(value.trimmingCharacters(in: .whitespaces)) }
            return replaced
        }
    }

    /// "about 3 of 5000 training rows had 'income' within ±1200 of 250000".
    static func describe(_ n: TrainingDensity.Neighbourhood) -> String {
        let count = n.rows == n.rows.rounded() ? String(Int(n.rows)) : "about \(Int(n.rows.rounded()))"
        if n.value == "missing" { return "\(count) of \(n.of) training rows had '\(n.feature)' missing" }
        guard let within = n.within else { return "\(count) of \(n.of) training rows had '\(n.feature)' = '\(n.value)'" }
        let width = n.isDate ? "\(shown(within / 86_400)) days" : shown(within)
        return within > 0 ? "\(count) of \(n.of) training rows had '\(n.feature)' within ±\(width) of \(n.value)"
                          : "\(count) of \(n.of) training rows had '\(n.feature)' = \(n.value)"
    }

    static func shown(_ x: Double) -> String { String(format: "%.4g", x) }

    /// The `q` quantile of `values` (the smallest value with at least a share `q` at or below it); nil when empty.
    public static func quantile(_ values: [Double], _ q: Double) -> Double? {
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return nil }
        let index = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }
}
