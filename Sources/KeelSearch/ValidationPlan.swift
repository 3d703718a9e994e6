import KeelData
import KeelLearn

/// Which rows the search may see and how it validates: a holdout cut first (time-ordered with a time column,
/// grouped with a group column, stratified for classification), then folds over the rest (repeated 5-fold
/// for small data or a rare class, 5-fold up to 20,000 rows, one split beyond; time-ordered or grouped like
/// the holdout). Data that is costly for its budget (`affordable`) validates one step cheaper.
struct ValidationPlan {
    /// `train` is the search part, `validation` the holdout; both index the whole table.
    let holdout: Fold
    /// Index the search part.
    let folds: [Fold]
    let description: String
    /// The leading folds whose validation rows cover each search row at most once (out-of-fold predictions
    /// for ensemble selection come from these).
    var coverFolds: Int { description.contains("repeated twice") ? folds.count / 2 : folds.count }

    static func make(frame: Frame, schema: Schema, target: TargetEncoding, settings: SearchSettings) throws -> ValidationPlan {
        let n = frame.rowCount
        let labels: [UInt32]? = target.task.kind == .regression ? nil : target.values.map { UInt32($0) }
        if let time = schema.columns(withRole: .time).first, let column = frame[time.name] {
            let times = try Self.times(column)
            let holdout = try Splits.timeOrdered(times: times, fraction: settings.holdoutFraction)
            let inner = try Splits.timeOrdered(times: holdout.train.map { times[$0] }, fraction: 0.2)
            return ValidationPlan(holdout: holdout, folds: [inner],
                                  description: "time-ordered by '\(time.name)': the latest \(Int(settings.holdoutFraction * 100))% held out, the next latest 20% validates")
        }
        if let group = schema.columns(withRole: .group).first, let column = frame[group.name] {
            let groups = try Self.groups(column)
            let outer = try Splits.groupKFold(groups: groups, k: max(2, Int((1 / settings.holdoutFraction).rounded())), seed: settings.seeds.seed("validation.holdout"))
            let holdout = outer[0]
            let inner = try Splits.groupKFold(groups: holdout.train.map { groups[$0] }, k: 5, seed: settings.seeds.seed("validation.folds"))
            return ValidationPlan(holdout: holdout, folds: inner, description: "grouped by '\(group.name)': 5 group folds, groups never split")
        }
        let holdout = try Splits.holdout(rows: n, fraction: settings.holdoutFraction, seed: settings.seeds.seed("validation.holdout"), stratifyBy: labels)
        let searchRows = holdout.train.count
        let searchLabels = labels.map { l in holdout.train.map { l[$0] } }
        let stratified = labels == nil ? "" : "stratified "
        // Fold scores are as noisy as the rarest class is small: a rare class gets repeated folds too.
        let rarest = searchLabels.map { labels in Dictionary(grouping: labels, by: { $0 }).values.map(\.count).min() ?? 0 } ?? .max
        let outputs = target.task.kind == .multiclass ? target.classCount : 1
        let costly = !settings.rulesOff.contains(.affordableFolds) && !affordable(rows: searchRows, features: schema.featureNames.count, outputs: outputs, budget: settings.timeBudget)
        let cost = costly ? ", cut one step for the budget: \(searchRows) rows × \(schema.featureNames.count) features\(outputs > 1 ? " × \(outputs) classes" : "")" : ""
        let rare = rarest < 300 && !settings.rulesOff.contains(.rareClassRepeats)
        if searchRows <= 2_000 || (searchRows <= 20_000 && rare) {
            let reason = searchRows > 2_000 ? ", the rarest class has \(rarest) of them" : ""
            let repeats = costly ? 1 : 2
            let folds = try (0..<repeats).flatMap { repeat_ in try Splits.kFold(rows: searchRows, k: 5, seed: settings.seeds.seed("validation.folds", index: repeat_), stratifyBy: searchLabels) }
            return ValidationPlan(holdout: holdout, folds: folds,
                                  description: "\(stratified)5-fold cross-validation\(costly ? "" : " repeated twice") (\(searchRows) search rows\(reason)\(cost))")
        }
        if searchRows <= 20_000 && !costly {
            let folds = try Splits.kFold(rows: searchRows, k: 5, seed: settings.seeds.seed("validation.folds"), stratifyBy: searchLabels)
            return ValidationPlan(holdout: holdout, folds: folds, description: "\(stratified)5-fold cross-validation (\(searchRows) search rows)")
        }
        let split = try Splits.holdout(rows: searchRows, fraction: 0.2, seed: settings.seeds.seed("validation.folds"), stratifyBy: searchLabels)
        return ValidationPlan(holdout: holdout, folds: [split], description: "one \(stratified)80/20 validation split (\(searchRows) search rows\(searchRows <= 20_000 ? cost : ""))")
    }

    /// Whether the budget affords the usual folds on this data. A trial's cost grows with rows × features ×
    /// outputs (boosting grows a tree per class each round); past about 2 million of those per minute of
    /// budget, five folds leave time for too few trials, and the best configuration is stopped at the
    /// deadline before it is validated. A rule on sizes and the budget setting, not on the clock, so a replay
    /// takes the same plan.
    static func affordable(rows: Int, features: Int, outputs: Int, budget: Double) -> Bool {
        Double(rows) * Double(max(features, 1)) * Double(max(outputs, 1)) <= 2e6 * budget / 60
    }

    private static func times(_ column: Column) throws -> [Double] {
        switch column.values {
        case .numeric(let v), .datetime(let v): return v
        default: throw SearchError.invalidInput("time column '\(column.name)' must hold dates or numbers")
        }
    }

    private static func groups(_ column: Column) throws -> [UInt32] {
        guard case .categorical(let s) = try column.converted(to: .categorical).values else { return [] }
        return s.codes
    }
}

public enum SearchError: Error, Sendable, CustomStringConvertible {
    case invalidInput(String)
    case invalidModelFile(String)

    public var description: String {
        switch self {
        case .invalidInput(let message), .invalidModelFile(let message): message
        }
    }
}
