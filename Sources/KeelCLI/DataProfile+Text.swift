import KeelData
import KeelLifecycle

extension DataProfile {
    init(_ data: LoadedData) {
        self.init(path: data.path, frame: data.frame, inference: data.inference)
    }

    /// The profile as a readable table with the task and warnings.
    func text() -> String {
        var lines = ["\(file): \(rows) rows × \(columns) columns, fingerprint \(fingerprint.prefix(16))"]
        if let target, let task {
            var line = "target '\(target)': \(task.kind.rawValue)"
            if let classCounts {
                line += ", classes " + classCounts.map { "\($0.label) (\($0.count))" }.joined(separator: " / ")
            }
            if let positive = task.positiveClass { line += ", positive class '\(positive)'" }
            lines.append(line)
        }
        lines.append("")
        let header = ["column", "kind", "role", "missing", "distinct", "range / top levels", "flags"]
        let body = profile.map { column -> [String] in
            let stats = column.statistics
            let total = stats.count + stats.missing
            let missing = total == 0 ? 0 : Double(stats.missing) / Double(total) * 100
            return [column.name, column.kind.rawValue, column.role.rawValue, Format.fixed(missing, 1) + "%",
                    String(stats.distinct), Self.summary(column),
                    (column.flags.map(\.rawValue) + (column.pii.map { ["pii: \($0.kind.rawValue) (\($0.identifierClass.rawValue), \(Format.fixed($0.confidence, 2)))"] } ?? [])
                     + (column.privacy.map { $0 == .keep && column.pii?.identifierClass != .direct ? [] : ["privacy: \($0)"] } ?? [])).joined(separator: ", ")]
        }
        lines.append(contentsOf: TextTable.render(header: header, rows: body, rightAligned: [3, 4]))
        if !warnings.isEmpty {
            lines.append("")
            lines.append("warnings:")
            lines.append(contentsOf: warnings.map { "  - \($0)" })
        }
        return lines.joined(separator: "\n")
    }

    private static func summary(_ column: ColumnProfile) -> String {
        let stats = column.statistics
        if let top = stats.topLevels {
            let shown = top.prefix(3).map { level in
                let share = Double(level.count) / Double(max(stats.count, 1)) * 100
                return "\(Format.clip(level.level, 18)) " + (share < 1 ? "<1%" : "\(Format.fixed(share, 0))%")
            }
            return shown.joined(separator: ", ") + (stats.distinct > 3 ? ", …" : "")
        }
        guard let low = stats.min, let high = stats.max else { return "" }
        if column.kind == .datetime { return "\(DateTimeParser.format(low)) … \(DateTimeParser.format(high))" }
        return "\(Format.number(low)) … \(Format.number(high)), mean \(Format.number(stats.mean ?? 0))"
    }
}
