/// What a user says about columns on the command line (`--id`, `--categorical`, …), applied after inference
/// and after a schema file, so the most explicit word wins.
public struct SchemaOverrides: Sendable, Equatable {
    public var task: TaskKind?
    public var positiveClass: String?
    public var ids: [String] = []
    public var time: String?
    public var group: String?
    public var weight: String?
    public var protected: [String] = []
    public var ignored: [String] = []
    public var features: [String] = []
    public var categorical: [String] = []
    public var numeric: [String] = []

    public init() {}

    /// Applies the overrides to `schema`, recomputing the task from `frame` when the target's kind or the
    /// task changes. Every named column must exist and may be given at most one role.
    public func apply(to schema: inout Schema, frame: Frame) throws {
        try checkNames(in: frame)
        for name in categorical { try setKind(.categorical, of: name, in: &schema, frame: frame) }
        for name in numeric { try setKind(.numeric, of: name, in: &schema, frame: frame) }
        let roles: [(ColumnRole, [String])] = [
            (.id, ids), (.time, time.map { [$0] } ?? []), (.group, group.map { [$0] } ?? []),
            (.weight, weight.map { [$0] } ?? []), (.protected, protected), (.ignored, ignored), (.feature, features),
        ]
        for (role, names) in roles {
            for name in names {
                guard let index = schema.columns.firstIndex(where: { $0.name == name }) else { continue }
                if schema.columns[index].role == .target {
                    throw DataError.invalidSchema("'\(name)' is the target and cannot also have the role \(role.rawValue)")
                }
                schema.columns[index].role = role
                // An identifier the user named is not an inferred one: no probe second-guesses it.
                if role == .id { schema.columns[index].flags.removeAll { $0 == .idLike } }
            }
        }
        if let time, schema[time]?.kind != .datetime, schema[time]?.kind != .numeric {
            throw DataError.invalidSchema("time column '\(time)' must hold dates or numbers, not \(schema[time]!.kind.rawValue) values")
        }
        // Weights of a few whole numbers (1, 2, 5) look like class codes to inference; a weight is a number.
        if let weight, schema[weight]?.kind == .categorical, !categorical.contains(weight),
           (try? frame[weight]!.converted(to: .numeric)) != nil {
            try setKind(.numeric, of: weight, in: &schema, frame: frame)
        }
        if let weight, schema[weight]?.kind != .numeric {
            throw DataError.invalidSchema("weight column '\(weight)' must be numeric")
        }
        try applyTask(to: &schema, frame: frame)
    }

    private func checkNames(in frame: Frame) throws {
        var roleOf: [String: String] = [:]
        let named: [(String, [String])] = [
            ("--id", ids), ("--time-column", time.map { [$0] } ?? []), ("--group", group.map { [$0] } ?? []),
            ("--weight", weight.map { [$0] } ?? []), ("--protected", protected), ("--ignore", ignored),
            ("--feature", features),
        ]
        for (flag, names) in named {
            for name in names {
                guard frame.index(of: name) != nil else {
                    throw DataError.invalidSchema("\(flag) names column '\(name)', which is not in the data; the columns are: \(frame.columnNames.joined(separator: ", "))")
                }
                if let earlier = roleOf.updateValue(flag, forKey: name), earlier != flag {
                    throw DataError.invalidSchema("column '\(name)' is given two roles (\(earlier) and \(flag))")
                }
            }
        }
        for (flag, names) in [("--categorical", categorical), ("--numeric", numeric)] {
            for name in names where frame.index(of: name) == nil {
                throw DataError.invalidSchema("\(flag) names column '\(name)', which is not in the data; the columns are: \(frame.columnNames.joined(separator: ", "))")
            }
        }
    }

    private func setKind(_ kind: ColumnKind, of name: String, in schema: inout Schema, frame: Frame) throws {
        guard let index = schema.columns.firstIndex(where: { $0.name == name }) else { return }
        _ = try frame[name]!.converted(to: kind)
        schema.columns[index].kind = kind
        schema.columns[index].flags.removeAll { $0 == .integerCodes || $0 == .highCardinality }
    }

    private func applyTask(to schema: inout Schema, frame: Frame) throws {
        guard let target = schema.target, let column = frame[target] else {
            if task != nil || positiveClass != nil {
                throw DataError.invalidSchema("--task and --positive-class need a target column (--target)")
            }
            return
        }
        let wanted = task ?? schema.task?.kind
        let index = schema.columns.firstIndex { $0.name == target }!
        if wanted == .regression, column.kind == .numeric, !categorical.contains(target) {
            // Whole-number targets are read as class codes by default; regression takes them as numbers again.
            schema.columns[index].kind = .numeric
            schema.columns[index].flags.removeAll { $0 == .integerCodes }
        }
        let kind = schema.columns[index].kind
        switch wanted {
        case .regression:
            guard kind == .numeric else {
                throw DataError.invalidSchema("target '\(target)' is \(kind.rawValue), so the task cannot be regression")
            }
            if positiveClass != nil { throw DataError.invalidSchema("--positive-class applies to binary tasks only") }
            schema.task = LearningTask(kind: .regression)
        case .binary, .multiclass:
            let converted = try column.converted(to: kind == .numeric ? .categorical : kind)
            var result = try SchemaInference.classificationTask(converted, positiveClass: positiveClass)
            if let wanted, result.kind != wanted {
                throw DataError.invalidSchema("target '\(target)' has \(result.classes!.count) classes, so the task cannot be \(wanted.rawValue)")
            }
            if result.kind == .binary, positiveClass == nil, let previous = schema.task?.positiveClass,
               result.classes!.contains(previous) {
                result.positiveClass = previous
            }
            schema.task = result
        case nil:
            schema.task = try SchemaInference.inferTask(column, kind: kind, stats: ColumnStatistics(column))
        }
    }
}
