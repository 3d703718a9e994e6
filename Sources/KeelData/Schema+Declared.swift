extension Schema {
    /// Takes what a schema file declares (kinds, roles, nullability, target, task) over what was inferred.
    /// Columns the file does not mention keep their inferred description.
    ///
    /// - Throws: when the file names a column the data lacks, a kind the data cannot take, or classes that
    ///   do not cover the target's labels.
    public mutating func adopt(_ declared: Schema, frame: Frame) throws {
        guard declared.version <= Self.currentVersion else {
            throw DataError.invalidSchema("the schema file has version \(declared.version); this Keel reads up to version \(Self.currentVersion)")
        }
        for column in declared.columns {
            guard let index = columns.firstIndex(where: { $0.name == column.name }), let data = frame[column.name] else {
                throw DataError.invalidSchema("the schema file describes column '\(column.name)', which is not in the data; the columns are: \(frame.columnNames.joined(separator: ", "))")
            }
            _ = try data.converted(to: column.kind)
            // What the file does not say of personal data, inference's finding stands.
            let found = columns[index].pii
            columns[index] = column
            if column.pii == nil { columns[index].pii = found }
        }
        if let declaredTarget = declared.target {
            guard let index = columns.firstIndex(where: { $0.name == declaredTarget }) else {
                throw DataError.unknownColumn(declaredTarget, available: frame.columnNames)
            }
            if let old = target, old != declaredTarget, let oldIndex = columns.firstIndex(where: { $0.name == old }) {
                columns[oldIndex].role = .feature
            }
            target = declaredTarget
            columns[index].role = .target
        }
        if let task = declared.task, let target, let column = frame[target] {
            if let classes = task.classes {
                let kind = self[target]!.kind
                let labels = SchemaInference.classLabels(try column.converted(to: kind == .numeric ? .categorical : kind))
                let unknown = labels.filter { !classes.contains($0) }
                guard unknown.isEmpty else {
                    throw DataError.invalidSchema("target '\(target)' has labels the schema file does not list as classes: \(unknown.joined(separator: ", "))")
                }
            }
            self.task = task
        }
    }
}

extension Schema {
    /// This schema without the personal data inference found (the `pii` of every column).
    public var withoutPersonalDataFindings: Schema {
        var schema = self
        for index in schema.columns.indices { schema.columns[index].pii = nil }
        return schema
    }
}
