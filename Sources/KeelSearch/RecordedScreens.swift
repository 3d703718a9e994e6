import KeelData
import KeelLearn

/// A replay's screen verdicts, applied to the schema and the pipeline's options before any fold is built:
/// the replay probes nothing, so it builds its folds once, on the columns the run ended with.
struct RecordedScreens {
    /// The schema with the identifiers the run kept as features and without the columns it left out.
    var schema: Schema
    /// Whether categorical columns whose levels are numbers also reach the learners as their values.
    var levelValues: Bool
    /// The verdicts, recorded again as the replay's own.
    var decisions = SearchDecisions()
    /// What the run said of them, said again.
    var warnings: [String] = []

    /// Identifier verdicts first (kept ones become features), then the column screen's (dropped ones leave),
    /// both only when the screen is on; the value screen's whenever it ran. Records from before a screen
    /// existed have none of its verdicts, and their runs had none of its changes.
    init(_ replay: ReplaySchedule, schema: Schema, screenColumns: Bool) {
        var schema = schema
        if screenColumns, let verdicts = replay.identifierScreen {
            decisions.identifierScreen = verdicts
            let kept = verdicts.filter { !$0.dropped }.map(\.column)
            for (index, column) in schema.columns.enumerated() where kept.contains(column.name) { schema.columns[index].role = .feature }
            if !kept.isEmpty { warnings.append(Self.keptIdentifiers(kept)) }
        }
        if screenColumns, let verdicts = replay.columnScreen {
            decisions.columnScreen = verdicts
            let dropped = verdicts.filter(\.dropped).map(\.column)
            if !dropped.isEmpty {
                schema = ColumnScreen.dropping(dropped, from: schema)
                warnings.append(Self.leftOut(dropped))
            }
        }
        decisions.valueScreen = replay.valueScreen
        levelValues = replay.valueScreen?.kept == true
        self.schema = schema
    }

    static func keptIdentifiers(_ columns: [String]) -> String {
        "kept as features although they look like identifiers (a probe scored better with them; --id COLUMN leaves one out): "
            + columns.map { "'\($0)'" }.joined(separator: ", ")
    }

    static func leftOut(_ columns: [String]) -> String {
        "left out by the column screen (the probe scored better without them; --feature COLUMN keeps one): " + columns.map { "'\($0)'" }.joined(separator: ", ")
    }
}
