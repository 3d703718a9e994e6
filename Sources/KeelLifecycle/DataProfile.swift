import KeelData

/// What `keel inspect` reports about a data file, and what a training run records of its data: the schema, a profile per column, the task and warnings.
public struct DataProfile: Encodable, Sendable {
    public struct ColumnProfile: Encodable, Sendable {
        public var name: String
        public var kind: ColumnKind
        public var role: ColumnRole
        public var nullable: Bool
        public var flags: [ColumnFlag]
        /// The personal data inference found (absent when none).
        public var pii: PersonalData?
        /// The column's privacy rule (absent when none applies).
        public var privacy: PrivacyRule?
        public var statistics: ColumnStatistics
    }

    public struct ClassCount: Encodable, Sendable {
        public var label: String
        public var count: Int
    }

    public var file: String
    public var rows: Int
    public var columns: Int
    public var fingerprint: String
    public var target: String?
    public var task: LearningTask?
    public var classCounts: [ClassCount]?
    public var profile: [ColumnProfile]
    public var warnings: [String]
    public var schema: Schema

    enum CodingKeys: String, CodingKey {
        case file, rows, columns, fingerprint, target, task, profile, warnings, schema
        case classCounts = "class_counts"
    }

    public init(path: String, frame: Frame, inference: SchemaInference.Result) {
        let schema = inference.schema
        file = path
        rows = frame.rowCount
        columns = frame.columnCount
        fingerprint = frame.fingerprint
        target = schema.target
        task = schema.task
        // Columns the privacy policy dropped are in the schema (with their rule) and not in the data.
        profile = schema.columns.compactMap { column in
            frame[column.name].map {
                ColumnProfile(name: column.name, kind: column.kind, role: column.role, nullable: column.nullable,
                              flags: column.flags, pii: column.pii, privacy: schema.privacy?[column.name], statistics: ColumnStatistics($0))
            }
        }
        // Said of the schema as the overrides left it: a column left out is no longer used as a feature.
        warnings = inference.warnings + SchemaInference.personalDataWarnings(schema)
        self.schema = schema
        if let target, let classes = task?.classes, let column = frame[target] {
            let counts = SchemaInference.labelCounts(column)
            classCounts = classes.map { ClassCount(label: $0, count: counts[$0] ?? 0) }
        }
    }
}
