/// What a column is for. Only `feature` columns are given to learners; `protected` columns are kept for
/// fairness audits and never used as features; `ignored` columns are dropped.
public enum ColumnRole: String, Codable, Sendable, CaseIterable {
    case feature, target, id, time, group, weight, protected, ignored
}

/// Observations about a column that explain an inferred role or deserve a warning.
public enum ColumnFlag: String, Codable, Sendable, CaseIterable {
    case idLike = "id-like"
    case constant
    case highCardinality = "high-cardinality"
    case leakageSuspect = "leakage-suspect"
    case timeCandidate = "time-candidate"
    case infiniteValues = "infinite-values"
    case integerCodes = "integer-codes"
}

public enum TaskKind: String, Codable, Sendable, CaseIterable {
    case binary, multiclass, regression
}

/// The learning task for a target column: its kind and, for classification, the classes in a fixed order
/// (sorted, numerically when the labels are numbers) and the positive class of a binary task.
public struct LearningTask: Codable, Sendable, Equatable {
    public var kind: TaskKind
    public var classes: [String]?
    public var positiveClass: String?

    public init(kind: TaskKind, classes: [String]? = nil, positiveClass: String? = nil) {
        self.kind = kind
        self.classes = classes
        self.positiveClass = positiveClass
    }

    enum CodingKeys: String, CodingKey {
        case kind, classes
        case positiveClass = "positive_class"
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: ["kind", "classes", "positive_class"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(TaskKind.self, forKey: .kind)
        classes = try container.decodeIfPresent([String].self, forKey: .classes)
        positiveClass = try container.decodeIfPresent(String.self, forKey: .positiveClass)
    }
}

public struct ColumnSchema: Codable, Sendable, Equatable {
    public var name: String
    public var kind: ColumnKind
    public var role: ColumnRole
    /// Whether the column may be missing; false means every training row had a value.
    public var nullable: Bool
    public var flags: [ColumnFlag]
    /// Numeric columns: words the training data held among the numbers, read as missing there and so
    /// wherever the model scores (`"unknown"`, `"n/a"`); nil when there were none.
    public var missingWords: [String]?
    /// The personal data inference found the column to hold (its kind, class and confidence); nil when it
    /// found none, which is evidence, not proof, that there is none.
    public var pii: PersonalData?

    public init(name: String, kind: ColumnKind, role: ColumnRole, nullable: Bool, flags: [ColumnFlag] = [], missingWords: [String]? = nil) {
        self.name = name
        self.kind = kind
        self.role = role
        self.nullable = nullable
        self.flags = flags
        self.missingWords = missingWords
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: ["name", "kind", "role", "nullable", "flags", "missingWords", "pii"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(ColumnKind.self, forKey: .kind)
        role = try container.decodeIfPresent(ColumnRole.self, forKey: .role) ?? .feature
        nullable = try container.decodeIfPresent(Bool.self, forKey: .nullable) ?? true
        flags = try container.decodeIfPresent([ColumnFlag].self, forKey: .flags) ?? []
        missingWords = try container.decodeIfPresent([String].self, forKey: .missingWords)
        pii = try container.decodeIfPresent(PersonalData.self, forKey: .pii)
    }
}

/// The description of a table that every artefact stores and every request is checked against.
public struct Schema: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    public var target: String?
    public var task: LearningTask?
    public var columns: [ColumnSchema]
    /// How the files are written, when a schema file says so (schema-file keys `decimal`, `thousands` and
    /// `encoding`, as `--decimal`, `--thousands` and `--encoding`); nil: detected.
    public var decimal: String?
    public var thousands: String?
    public var encoding: String?
    /// Columns read as text whatever their values look like (`--categorical`, or this key in a schema file),
    /// so that `3.0` in a later file is not the level `3` training saw; nil when none were.
    public var textColumns: [String]?
    /// Each column's privacy rule (schema-file key `privacy: {COLUMN: drop | pseudonymise | generalise |
    /// keep}`), applied by `PrivacyGuard` wherever data enters; nil when no column has one.
    public var privacy: [String: PrivacyRule]?
    /// Identifies the key pseudonymised columns were made with (never the key): a different key at scoring
    /// is an error. Nil when nothing is pseudonymised.
    public var pseudonymKeyCheck: String?

    public init(target: String? = nil, task: LearningTask? = nil, columns: [ColumnSchema]) {
        version = Self.currentVersion
        self.target = target
        self.task = task
        self.columns = columns
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: ["version", "target", "task", "columns", "decimal", "thousands", "encoding", "textColumns",
                                                   "privacy", "pseudonymKeyCheck"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? Self.currentVersion
        target = try container.decodeIfPresent(String.self, forKey: .target)
        task = try container.decodeIfPresent(LearningTask.self, forKey: .task)
        columns = try container.decode([ColumnSchema].self, forKey: .columns)
        decimal = try container.decodeIfPresent(String.self, forKey: .decimal)
        thousands = try container.decodeIfPresent(String.self, forKey: .thousands)
        encoding = try container.decodeIfPresent(String.self, forKey: .encoding)
        textColumns = try container.decodeIfPresent([String].self, forKey: .textColumns)
        privacy = try container.decodeIfPresent([String: PrivacyRule].self, forKey: .privacy)
        pseudonymKeyCheck = try container.decodeIfPresent(String.self, forKey: .pseudonymKeyCheck)
    }

    public subscript(name: String) -> ColumnSchema? {
        columns.first { $0.name == name }
    }

    public func columns(withRole role: ColumnRole) -> [ColumnSchema] {
        columns.filter { $0.role == role }
    }

    public var featureNames: [String] { columns(withRole: .feature).map(\.name) }
}

/// Rejects keys a document type does not know, so a typo in a hand-edited file is an error, not ignored.
public enum StrictKeys {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public static func check(_ decoder: any Decoder, allowed: Set<String>) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = container.allKeys.first(where: { !allowed.contains($0.stringValue) }) {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath + [unknown],
                debugDescription: "unknown key '\(unknown.stringValue)'; the keys are: \(allowed.sorted().joined(separator: ", "))"))
        }
    }
}
