import Foundation
import KeelData

/// A humility rule: a guard on every prediction of a model. When its trigger fires on a row, its action
/// says what happens: `flag` (the prediction carries a flag), `override` (a fixed prediction replaces the
/// model's, flagged), `error` (the row is refused, naming the rule), `review` (flagged and queued for a
/// person). Rules are given per model in the registry's `keel.yaml` (`models.NAME.humility`) or in the
/// `humility:` section of the `keel.yaml` that `keel serve --config` and `keel predict --config` read:
///
/// ```yaml
/// humility:
///   - {trigger: uncertain, max_probability_below: 0.6, action: review}
///   - {trigger: outlying, action: flag}
///   - {trigger: low_density, min_training_rows: 20, action: flag}
///   - {trigger: uncertain, max_probability_below: 0.55, action: override, value: "1"}
/// ```
public struct HumilityRule: Codable, Sendable, Equatable {
    public enum Trigger: String, Codable, Sendable, CaseIterable {
        /// The top class probability is below `max_probability_below` (classifiers).
        case uncertain
        /// A number outside its training range, a level training never saw, or an outlier score above
        /// `outlier_score_above` (default: the holdout's 99.5th percentile, kept in the model).
        case outlying
        /// Some feature's value had fewer than `min_training_rows` training rows near it.
        case lowDensity = "low_density"
    }

    public enum Action: String, Codable, Sendable, CaseIterable {
        case flag, override, error, review
    }

    /// What flags name the rule by: `name:` when given, else `TRIGGER#N` (N its 1-based place in the list).
    public var name: String
    public var trigger: Trigger
    public var action: Action
    public var maxProbabilityBelow: Double?
    public var minTrainingRows: Double?
    public var outlierScoreAbove: Double?
    /// `override`: the prediction that replaces the model's (a class as spelled in training, or a number).
    public var value: String?

    public init(name: String, trigger: Trigger, action: Action, maxProbabilityBelow: Double? = nil, minTrainingRows: Double? = nil,
                outlierScoreAbove: Double? = nil, value: String? = nil) {
        (self.name, self.trigger, self.action) = (name, trigger, action)
        (self.maxProbabilityBelow, self.minTrainingRows, self.outlierScoreAbove, self.value) = (maxProbabilityBelow, minTrainingRows, outlierScoreAbove, value)
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, trigger, action, value
        case maxProbabilityBelow = "max_probability_below"
        case minTrainingRows = "min_training_rows"
        case outlierScoreAbove = "outlier_score_above"
    }

    /// Reads one rule as written in `keel.yaml`: unknown keys, unknown trigger or action names, a threshold
    /// out of range, a threshold of another trigger, or a `value` without `override` are errors naming the key.
    /// The default name needs the rule's place, so a list is read with `HumilityRule.list`.
    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func fail(_ key: CodingKeys, _ message: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: message)
        }
        let triggerText = try c.decode(String.self, forKey: .trigger)
        guard let trigger = Trigger(rawValue: triggerText) else {
            throw fail(.trigger, "unknown trigger '\(triggerText)'; the triggers are: \(Trigger.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let actionText = try c.decode(String.self, forKey: .action)
        guard let action = Action(rawValue: actionText) else {
            throw fail(.action, "unknown action '\(actionText)'; the actions are: \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.trigger = trigger
        self.action = action
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        maxProbabilityBelow = try c.decodeIfPresent(Double.self, forKey: .maxProbabilityBelow)
        minTrainingRows = try c.decodeIfPresent(Double.self, forKey: .minTrainingRows)
        outlierScoreAbove = try c.decodeIfPresent(Double.self, forKey: .outlierScoreAbove)
        if let text = try? c.decodeIfPresent(String.self, forKey: .value) {
            value = text
        } else if let number = try c.decodeIfPresent(Double.self, forKey: .value) {
            value = NumberFormatting.canonical(number)
        }
        let own: Set<CodingKeys> = switch trigger {
        case .uncertain: [.maxProbabilityBelow]
        case .outlying: [.outlierScoreAbove]
        case .lowDensity: [.minTrainingRows]
        }
        for key in [CodingKeys.maxProbabilityBelow, .minTrainingRows, .outlierScoreAbove] where c.contains(key) && !own.contains(key) {
            throw fail(key, "\(key.rawValue) is not a setting of trigger \(trigger.rawValue) (its settings: \(own.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        switch trigger {
        case .uncertain:
            guard let threshold = maxProbabilityBelow else { throw fail(.maxProbabilityBelow, "trigger uncertain needs max_probability_below, a probability such as 0.6") }
            guard threshold > 0, threshold <= 1 else { throw fail(.maxProbabilityBelow, "max_probability_below must be above 0 and at most 1, not \(NumberFormatting.canonical(threshold))") }
        case .lowDensity:
            guard let rows = minTrainingRows else { throw fail(.minTrainingRows, "trigger low_density needs min_training_rows, a number of rows such as 20") }
            guard rows >= 1, rows.isFinite else { throw fail(.minTrainingRows, "min_training_rows must be at least 1, not \(NumberFormatting.canonical(rows))") }
        case .outlying:
            if let score = outlierScoreAbove, !(score > 0 && score.isFinite) {
                throw fail(.outlierScoreAbove, "outlier_score_above must be a positive number, not \(NumberFormatting.canonical(score))")
            }
        }
        if action == .override, value == nil { throw fail(.value, "action override needs value: the prediction that replaces the model's") }
        if action != .override, c.contains(.value) { throw fail(.value, "value is only for action override (this rule's action is \(action.rawValue))") }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(trigger.rawValue, forKey: .trigger)
        try c.encodeIfPresent(maxProbabilityBelow, forKey: .maxProbabilityBelow)
        try c.encodeIfPresent(minTrainingRows, forKey: .minTrainingRows)
        try c.encodeIfPresent(outlierScoreAbove, forKey: .outlierScoreAbove)
        try c.encode(action.rawValue, forKey: .action)
        try c.encodeIfPresent(value, forKey: .value)
    }

    /// A decoded list with default names filled in (`TRIGGER#N`); two rules with one name are an error.
    public static func named(_ rules: [HumilityRule]) throws -> [HumilityRule] {
        var seen = Set<String>()
        return try rules.enumerated().map { index, rule in
            var rule = rule
            if rule.name.isEmpty { rule.name = "\(rule.trigger.rawValue)#\(index + 1)" }
            guard seen.insert(rule.name).inserted else { throw HumilityError.invalid(key: "humility[\(index)].name", "two rules are named '\(rule.name)'") }
            return rule
        }
    }

    /// The condition in words: "top probability below 0.6".
    public var condition: String {
        switch trigger {
        case .uncertain: "top probability below \(NumberFormatting.canonical(maxProbabilityBelow ?? 0))"
        case .outlying: "outside the training range, an unseen level, or an outlier score above "
            + (outlierScoreAbove.map { NumberFormatting.canonical($0) } ?? "the holdout's 99.5th percentile")
        case .lowDensity: "a value with fewer than \(NumberFormatting.canonical(minTrainingRows ?? 0)) training rows near it"
        }
    }
}

/// A rule that does not fit its model, named by its key: `humility[2].value: 'maybe' is not a class of churn`.
public enum HumilityError: Error, CustomStringConvertible, Equatable {
    case invalid(key: String, String)

    public var description: String {
        switch self {
        case .invalid(let key, let message): "\(key): \(message)"
        }
    }
}

/// A rule that fired on a row, as every prediction carries it: `{"rule", "trigger", "action", "reason"}`.
public struct HumilityFlag: Codable, Sendable, Equatable {
    public var rule: String
    public var trigger: HumilityRule.Trigger
    public var action: HumilityRule.Action
    public var reason: String

    /// "uncertain#1:review": a compact form for a CSV column.
    public var compact: String { "\(rule):\(action.rawValue)" }
}
