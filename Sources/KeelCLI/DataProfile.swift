import KeelData

/// What `keel inspect` reports about a data file: the schema, a profile per column, the task and warnings.
struct DataProfile: Encodable {
    struct ColumnProfile: Encodable {
        var name: String
        var kind: ColumnKind
        var role: ColumnRole
        var nullable: Bool
        var flags: [ColumnFlag]
        var statistics: ColumnStatistics
    }

    struct ClassCount: Encodable {
        var label: String
        var count: Int
    }

    var file: String
    var rows: Int
    var columns: Int
    var fingerprint: String
    var target: String?
    var task: LearningTask?
    var classCounts: [ClassCount]?
    var profile: [ColumnProfile]
    var warnings: [String]
    var schema: Schema

    enum CodingKeys: String, CodingKey {
        case file, rows, columns, fingerprint, target, task, profile, warnings, schema
        case classCounts = "class_counts"
    }

    init(_ data: LoadedData) {
        let schema = data.schema
        file = data.path
        rows = data.frame.rowCount
        columns = data.frame.columnCount
        fingerprint = data.frame.fingerprint
        target = schema.target
        task = schema.task
        profile = schema.columns.map { column in
            ColumnProfile(name: column.name, kind: column.kind, role: column.role, nullable: column.nullable,
                          flags: column.flags, statistics: ColumnStatistics(data.frame[column.name]!))
        }
        warnings = data.inference.warnings
        self.schema = schema
        if let target, let classes = task?.classes, let column = data.frame[target] {
            let counts = SchemaInference.labelCounts(column)
            classCounts = classes.map { ClassCount(label: $0, count: counts[$0] ?? 0) }
        }
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
                    String(stats.distinct), Self.summary(column), column.flags.map(\.rawValue).joined(separator: ", ")]
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
