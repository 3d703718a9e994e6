import Foundation
import KeelData
import KeelLearn
import KeelSearch

/// A training run's settings after flags and the config file are merged: what the registry records, and
/// what `keel runs reproduce` turns back into the same search.
public struct RunSettings: Codable, Equatable, Sendable {
    public var timeBudget: Double
    public var trials: Int?
    public var metric: Metric?
    public var seed: UInt64
    public var learners: [String]?
    public var monotone: [String: Int]
    public var balanceClasses: Bool
    public var preferInterpretable: Double?
    public var maxPredictMs: Double?
    public var costs: [Double]?
    public var refitFull: Bool
    public var hyperparameters: [String: [String: Double]]
    /// Columns read as text regardless of their content (`--categorical` and the config file).
    public var textColumns: [String]
    /// Try a stacked second layer (`--stack`); nil in runs recorded before it existed.
    public var stack: Bool?
    /// The memory budget in bytes, resolved when the run started (so a replay on another machine keeps it).
    public var maxMemoryBytes: Int?
    /// Whether the column screen ran; nil (as false) in runs recorded before it existed.
    public var columnScreen: Bool?
    /// Columns given as features by the user, which the screen never drops.
    public var keepColumns: [String]?
    /// Search rules a benchmark turned off (`KEEL_SEARCH_RULES_OFF`); nil: none.
    public var searchRulesOff: [String]?

    public init(timeBudget: Double, trials: Int?, metric: Metric?, seed: UInt64, learners: [String]?, monotone: [String: Int],
                balanceClasses: Bool, preferInterpretable: Double?, maxPredictMs: Double?, costs: [Double]?, refitFull: Bool,
                hyperparameters: [String: [String: Double]], textColumns: [String], stack: Bool?, maxMemoryBytes: Int?,
                columnScreen: Bool?, keepColumns: [String]?) {
        (self.timeBudget, self.trials, self.metric, self.seed, self.learners, self.monotone) = (timeBudget, trials, metric, seed, learners, monotone)
        (self.balanceClasses, self.preferInterpretable, self.maxPredictMs, self.costs, self.refitFull) = (balanceClasses, preferInterpretable, maxPredictMs, costs, refitFull)
        (self.hyperparameters, self.textColumns, self.stack, self.maxMemoryBytes) = (hyperparameters, textColumns, stack, maxMemoryBytes)
        (self.columnScreen, self.keepColumns) = (columnScreen, keepColumns)
    }

    /// `512M`, `4G`, `2048K` or plain bytes.
    public static func bytes(_ text: String) -> Int? {
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
        var number = text.trimmingCharacters(in: .whitespaces).uppercased()
        if number.hasSuffix("B") { number.removeLast() }
        var scale = 1.0
        if let last = number.last, let unit = units[last] {
            scale = unit
            number.removeLast()
        }
        guard let value = Double(number), value > 0, value.isFinite else { return nil }
        return Int(value * scale)
    }

    public func searchSettings() throws -> SearchSettings {
        var settings = SearchSettings()
        settings.timeBudget = timeBudget
        settings.trials = trials
        settings.metric = metric
        settings.seed = seed
        settings.learners = learners.map(Set.init)
        settings.monotone = monotone
        settings.balanceClasses = balanceClasses
        settings.preferInterpretable = preferInterpretable
        settings.maxPredictMilliseconds = maxPredictMs
        if let costs {
            guard costs.count == 2 else { throw LifecycleError.invalid("costs takes [false_positive_cost, false_negative_cost]") }
            settings.costs = (costs[0], costs[1])
        }
        settings.refitFull = refitFull
        settings.fixed = try FixedHyperparameters(hyperparameters)
        settings.memory = maxMemoryBytes.map(MemoryBudget.init(bytes:))
        settings.stack = stack ?? false
        settings.screenColumns = columnScreen ?? false
        settings.keepColumns = Set(keepColumns ?? [])
        settings.rulesOff = try SearchRule.parse((searchRulesOff ?? []).joined(separator: ","))
        return settings
    }

    /// How the report lists what the user changed from the defaults.
    public var overrides: [String] {
        var lines: [String] = []
        if let metric { lines.append("metric \(metric.rawValue)") }
        if let learners { lines.append("learners \(learners.sorted().joined(separator: ", "))") }
        lines += monotone.sorted { $0.key < $1.key }.map { "monotone \($0.key)=\($0.value > 0 ? "+1" : "-1")" }
        if balanceClasses { lines.append("class weight balanced") }
        if let preferInterpretable { lines.append("prefer interpretable within \(preferInterpretable)") }
        if let maxPredictMs { lines.append("max predict \(maxPredictMs) ms") }
        if let costs, costs.count == 2 { lines.append("costs FP=\(Self.number(costs[0])), FN=\(Self.number(costs[1]))") }
        if refitFull { lines.append("--refit-full") }
        if stack == true { lines.append("--stack") }
        if columnScreen == false { lines.append("--no-column-screen") }
        if let searchRulesOff, !searchRulesOff.isEmpty { lines.append("search rules off: \(searchRulesOff.joined(separator: ", ")) (KEEL_SEARCH_RULES_OFF)") }
        if let maxMemoryBytes, maxMemoryBytes != MemoryBudget.standard.bytes { lines.append("max memory \(maxMemoryBytes / 1_048_576) MB") }
        for (family, values) in hyperparameters.sorted(by: { $0.key < $1.key }) {
            lines.append("\(family) fixed: " + values.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.number($0.value))" }.joined(separator: ", "))
        }
        return lines
    }

    /// Four significant digits, without trailing zeros (as the command line prints numbers).
    private static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int64(value)) }
        return String(format: "%.4g", value)
    }
}

extension Schema {
    /// This schema with `columns` as the ones read as text (a run's record of them; none: nil).
    func readingAsText(_ columns: [String]) -> Schema {
        var schema = self
        schema.textColumns = columns.isEmpty ? nil : columns
        return schema
    }
}
