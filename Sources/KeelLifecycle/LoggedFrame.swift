import Foundation
import KeelData
import KeelRegistry

/// The prediction log as a frame a monitor can read: one column per schema column found in the logged
/// inputs (typed by the schema), the target from feedback labels, and `logged_at`, the time of each request.
public enum LoggedFrame {
    public static let timeColumn = "logged_at"

    public static func make(_ logged: [LoggedPrediction], schema: Schema) throws -> Frame {
        let inputs: [[String: Any]] = logged.map { item in
            ((try? JSONSerialization.jsonObject(with: Data(item.record.inputs.utf8))) as? [String: Any]) ?? [:]
        }
        var columns: [Column] = []
        for column in schema.columns where column.name != schema.target && column.role != .ignored {
            let values = inputs.map { $0[column.name] }
            guard values.contains(where: { $0 != nil && !($0 is NSNull) }) else { continue }
            columns.append(make(column.name, kind: column.kind, values: values))
        }
        if let target = schema.target, logged.contains(where: { $0.label != nil }) {
            let kind: ColumnKind = schema.task?.kind == .regression ? .numeric : .categorical
            columns.append(make(target, kind: kind, values: logged.map { $0.label }))
        }
        columns.append(Column(name: timeColumn, values: .datetime(logged.map(\.record.time))))
        return try Frame(columns: columns)
    }

    private static func make(_ name: String, kind: ColumnKind, values: [Any?]) -> Column {
        func text(_ value: Any?) -> String? {
            switch value {
            case let string as String: string
            case let number as NSNumber: NumberFormatting.canonical(number.doubleValue)
            default: nil
            }
        }
        switch kind {
        case .numeric:
            return Column(name: name, values: .numeric(values.map { ($0 as? NSNumber)?.doubleValue ?? text($0).flatMap(Double.init) ?? .nan }))
        case .datetime:
            return Column(name: name, values: .datetime(values.map { text($0).flatMap(DateTimeParser.parse) ?? .nan }))
        case .boolean:
            return Column(name: name, values: .boolean(values.map { value in
                if let flag = value as? Bool { return flag ? 1 : 0 }
                switch text(value)?.lowercased() {
                case "true", "1": return 1
                case "false", "0": return 0
                default: return Column.missingBoolean
                }
            }))
        case .categorical, .text:
            var coder = LevelCoder(capacity: values.count)
            for value in values { if let t = text(value) { coder.append(t) } else { coder.appendMissing() } }
            return Column(name: name, values: kind == .text ? .text(coder.encoded) : .categorical(coder.encoded))
        }
    }
}
