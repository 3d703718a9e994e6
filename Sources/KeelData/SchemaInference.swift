import Foundation

/// Infers a `Schema` from a frame: column kinds, roles and flags, and the task from the target column.
///
/// Rules, each overridable by `SchemaOverrides` or a schema file:
/// - whole numbers with 3 to 10 distinct values are categorical codes (`Pclass`, `cylinders`);
/// - a column with at most one distinct value is constant and ignored;
/// - a categorical or whole-number column with at least 20 values, 95% of them distinct, is an identifier
///   (role `id`) when its name says so, its values are UUIDs, or they count (equally spaced, or in row
///   order); a unique number without those marks (an income) is a feature; free text is never an identifier;
/// - a categorical column with over 100 levels, or more levels than half its values, is high-cardinality;
/// - a datetime column is a time-role candidate (the user chooses the time column);
/// - a feature that maps one-to-one onto the target, or correlates with it at |r| ≥ 0.999, is a leakage suspect.
public enum SchemaInference {
    public struct Result: Sendable {
        public var schema: Schema
        public var statistics: [String: ColumnStatistics]
        /// What reading decided and inference must say (an encoding, a number style, words read as
        /// missing); they lead `warnings` too.
        public var notes: [String] = []
        public var warnings: [String]
    }

    public static func infer(_ frame: Frame, target: String?) throws -> Result {
        var statistics: [String: ColumnStatistics] = [:]
        var columns: [ColumnSchema] = []
        for column in frame.columns {
            let stats = ColumnStatistics(column)
            statistics[column.name] = stats
            var described = describe(column, stats)
            described.pii = PersonalDataDetector.detect(column)
            columns.append(described)
        }
        var schema = Schema(columns: columns)
        if let target {
            guard let index = frame.index(of: target) else { throw DataError.unknownColumn(target, available: frame.columnNames) }
            schema.target = target
            schema.columns[index].role = .target
            schema.columns[index].flags.removeAll { $0 == .idLike || $0 == .constant }
            schema.columns[index].pii = nil
            schema.task = try inferTask(frame.columns[index], kind: schema.columns[index].kind, stats: statistics[target]!)
            markLeakage(&schema, frame: frame, target: frame.columns[index])
        }
        var notes = frame.notes
        for column in frame.columns where !column.missingWords.isEmpty {
            let words = column.missingWords.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            let rows = words.reduce(0) { $0 + $1.value }
            notes.append("'\(column.name)' is numeric; \(rows) values that are words were read as missing: "
                + words.map { "'\($0.key)' (\($0.value) row\($0.value == 1 ? "" : "s"))" }.joined(separator: ", ")
                + "; prediction reads the same words as missing (--categorical \(column.name) keeps the column as text)")
        }
        return Result(schema: schema, statistics: statistics, notes: notes, warnings: notes + warnings(schema, statistics))
    }

    static func describe(_ column: Column, _ stats: ColumnStatistics) -> ColumnSchema {
        var kind = column.kind
        var flags: [ColumnFlag] = []
        if kind == .numeric, stats.integral == true, stats.infinite == 0, (3...10).contains(stats.distinct) {
            kind = .categorical
            flags.append(.integerCodes)
        }
        if stats.infinite > 0 { flags.append(.infiniteValues) }
        var role = ColumnRole.feature
        if stats.distinct <= 1 {
            flags.append(.constant)
            role = .ignored
        } else if isIDLike(column, stats) {
            flags.append(.idLike)
            role = .id
        } else if kind == .categorical, stats.distinct > 100 || (stats.count >= 20 && stats.distinct * 2 > stats.count) {
            flags.append(.highCardinality)
        }
        if kind == .datetime { flags.append(.timeCandidate) }
        return ColumnSchema(name: column.name, kind: kind, role: role, nullable: stats.missing > 0, flags: flags,
                            missingWords: column.missingWords.isEmpty ? nil : column.missingWords.keys.sorted())
    }

    private static func isIDLike(_ column: Column, _ stats: ColumnStatistics) -> Bool {
        identifierEvidence(column, stats) != nil
    }

    /// Why a column is an identifier, or nil when it is not: its values are unique (at least 95% distinct
    /// over at least 20 values) AND its name says so (`id`, `*_id`, `*Id`, `uuid`, `key`, …), its values are
    /// UUIDs, or they are equally spaced or follow the row order (a counter). A unique number that is none of
    /// these (an income, a total) is a feature, and so is unique text without those marks.
    public static func identifierEvidence(_ column: Column, _ stats: ColumnStatistics) -> String? {
        guard stats.count >= 20, Double(stats.distinct) >= 0.95 * Double(stats.count) else { return nil }
        switch column.kind {
        case .text, .boolean, .datetime: return nil
        case .numeric where stats.integral != true: return nil
        case .numeric, .categorical: break
        }
        if namedLikeIdentifier(column.name) { return "unique values and a name that says identifier" }
        let numbers: [Double]
        switch column.values {
        case .numeric(let v):
            numbers = v.filter { !$0.isNaN }
        case .categorical(let s):
            let strings = s.codes.filter { $0 != EncodedStrings.missing }.map { s.levels[Int($0)] }
            if strings.allSatisfy(looksLikeUUID) { return "unique UUIDs" }
            // Codes such as C-00017: their trailing numbers are what counts.
            let trailing = strings.compactMap(trailingNumber)
            guard trailing.count == strings.count else { return nil }
            numbers = trailing
        default:
            return nil
        }
        guard numbers.count >= 20 else { return nil }
        var rising = 0, falling = 0
        for i in 1..<numbers.count {
            if numbers[i] > numbers[i - 1] { rising += 1 } else if numbers[i] < numbers[i - 1] { falling += 1 }
        }
        if Double(max(rising, falling)) >= 0.95 * Double(numbers.count - 1) { return "unique values that follow the row order (a counter)" }
        let sorted = Set(numbers).sorted()
        var gaps: [Double: Int] = [:]
        for i in 1..<sorted.count { gaps[sorted[i] - sorted[i - 1], default: 0] += 1 }
        if let common = gaps.values.max(), Double(common) >= 0.9 * Double(sorted.count - 1) { return "unique, equally spaced values (a counter)" }
        return nil
    }

    /// `id`, `ID`, `customer_id`, `CustomerId`, `customerID`, `user-id`, `uuid`, `guid`, `key`, `row_key`,
    /// `RowNumber`, `index`.
    static func namedLikeIdentifier(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if ["id", "uuid", "guid", "key", "index", "identifier", "rownumber", "row_number", "row", "rowid"].contains(lowered) { return true }
        for suffix in ["_id", "-id", " id", ".id", "_uuid", "_guid", "_key", "-key", "uuid", "guid"] where lowered.hasSuffix(suffix) { return true }
        // camelCase: CustomerId, customerID (but not "Paid" or "valid": the letter before must be lower case).
        for suffix in ["Id", "ID"] where name.hasSuffix(suffix) && name.count > 2 {
            let before = name[name.index(name.endIndex, offsetBy: -3)]
            if before.isLowercase || before.isNumber { return true }
        }
        return false
    }

    private static func looksLikeUUID(_ text: String) -> Bool {
        let parts = text.split(separator: "-")
        return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    private static func trailingNumber(_ text: String) -> Double? {
        let digits = text.reversed().prefix { $0.isNumber }
        guard !digits.isEmpty else { return nil }
        return Double(String(digits.reversed()))
    }

    /// The task a target column implies. Whole numbers with 2 values are binary, with 3 to 20 multiclass.
    static func inferTask(_ column: Column, kind: ColumnKind, stats: ColumnStatistics) throws -> LearningTask {
        guard stats.count > 0 else {
            throw DataError.invalidSchema("target column '\(column.name)' has no values (all \(stats.missing) are missing)")
        }
        switch column.kind {
        case .text, .datetime:
            throw DataError.invalidSchema("target column '\(column.name)' is \(column.kind.rawValue); a target must be numeric or categorical")
        case .numeric where !(stats.integral == true && stats.distinct <= 20) && kind == .numeric:
            guard stats.infinite == 0 else {
                throw DataError.invalidSchema("target column '\(column.name)' has \(stats.infinite) infinite values")
            }
            return LearningTask(kind: .regression)
        default:
            return try classificationTask(column, positiveClass: nil)
        }
    }

    /// A binary or multiclass task over the column's distinct labels.
    public static func classificationTask(_ column: Column, positiveClass: String?) throws -> LearningTask {
        let classes = classLabels(column)
        guard classes.count >= 2 else {
            let only = classes.first.map { " ('\($0)')" } ?? ""
            throw DataError.invalidSchema("target column '\(column.name)' has a single class\(only); a classifier needs at least two")
        }
        if let positiveClass, !classes.contains(positiveClass) {
            throw DataError.invalidSchema("positive class '\(positiveClass)' is not a class of '\(column.name)'; the classes are: \(classes.joined(separator: ", "))")
        }
        guard classes.count == 2 else { return LearningTask(kind: .multiclass, classes: classes) }
        return LearningTask(kind: .binary, classes: classes, positiveClass: positiveClass ?? defaultPositive(column, classes))
    }

    /// How often each present label occurs, keyed by its spelling (numbers spelled canonically).
    public static func labelCounts(_ column: Column) -> [String: Int] {
        var counts: [String: Int] = [:]
        switch column.values {
        case .numeric(let values), .datetime(let values):
            var byValue: [Double: Int] = [:]
            for value in values where !value.isNaN { byValue[value, default: 0] += 1 }
            for (value, count) in byValue { counts[NumberFormatting.canonical(value), default: 0] += count }
        case .boolean(let bytes):
            for byte in bytes where byte != Column.missingBoolean { counts[byte == 1 ? "true" : "false", default: 0] += 1 }
        case .categorical(let strings), .text(let strings):
            var byCode = [Int](repeating: 0, count: strings.levels.count)
            for code in strings.codes where code != EncodedStrings.missing { byCode[Int(code)] += 1 }
            for (code, count) in byCode.enumerated() where count > 0 { counts[strings.levels[code], default: 0] += count }
        }
        return counts
    }

    /// Distinct present labels, sorted (numerically for numbers).
    public static func classLabels(_ column: Column) -> [String] {
        switch column.values {
        case .numeric(let values), .datetime(let values):
            return Set(values.filter { !$0.isNaN }).sorted().map(NumberFormatting.canonical)
        case .boolean(let bytes):
            return [UInt8(0), 1].filter(bytes.contains).map { $0 == 1 ? "true" : "false" }
        case .categorical(let strings), .text(let strings):
            var used = [Bool](repeating: false, count: strings.levels.count)
            for code in strings.codes where code != EncodedStrings.missing { used[Int(code)] = true }
            return strings.levels.indices.filter { used[$0] }.map { strings.levels[$0] }.sorted()
        }
    }

    private static let negativePositivePairs: [(String, String)] = [
        ("0", "1"), ("false", "true"), ("no", "yes"), ("n", "y"), ("negative", "positive"), ("f", "t"),
    ]

    /// The "yes" of a yes/no pair; otherwise the rarer class (ties: the later one in sorted order).
    private static func defaultPositive(_ column: Column, _ classes: [String]) -> String {
        let lowered = classes.map { $0.lowercased() }
        for (negative, positive) in negativePositivePairs where Set(lowered) == [negative, positive] {
            return classes[lowered.firstIndex(of: positive)!]
        }
        let counts = labelCounts(column)
        return counts[classes[0], default: 0] < counts[classes[1], default: 0] ? classes[0] : classes[1]
    }

    private static func markLeakage(_ schema: inout Schema, frame: Frame, target: Column) {
        for (index, column) in frame.columns.enumerated() where schema.columns[index].role == .feature {
            if LeakageCheck.isSuspect(column, target: target) { schema.columns[index].flags.append(.leakageSuspect) }
        }
    }

    static func warnings(_ schema: Schema, _ statistics: [String: ColumnStatistics]) -> [String] {
        var warnings: [String] = []
        for column in schema.columns {
            let stats = statistics[column.name]
            for flag in column.flags {
                switch flag {
                case .idLike:
                    warnings.append("'\(column.name)' looks like an identifier (\(stats?.distinct ?? 0) distinct of \(stats?.count ?? 0) values, named or numbered like one); it is not used as a feature (--feature \(column.name) to use it)")
                case .constant:
                    warnings.append("'\(column.name)' is constant; it is ignored")
                case .highCardinality:
                    warnings.append("'\(column.name)' has \(stats?.distinct ?? 0) levels (high cardinality)")
                case .leakageSuspect:
                    warnings.append("'\(column.name)' determines the target almost exactly: check it is known at prediction time (target leakage)")
                case .infiniteValues:
                    warnings.append("'\(column.name)' has \(stats?.infinite ?? 0) infinite values")
                case .timeCandidate, .integerCodes:
                    break
                }
            }
        }
        let dated = schema.columns.filter { $0.flags.contains(.timeCandidate) && $0.role == .feature }.map(\.name)
        if !dated.isEmpty, schema.columns(withRole: .time).isEmpty {
            warnings.append("date columns \(dated.map { "'\($0)'" }.joined(separator: ", ")) could order the data in time; pass --time-column COLUMN to split and validate in time order")
        }
        return warnings
    }

    /// One warning per direct identifier, saying what the privacy policy does with it and the flag that
    /// changes that; one listing the quasi-identifiers with their rules.
    public static func personalDataWarnings(_ schema: Schema) -> [String] {
        var warnings: [String] = []
        let found = schema.columns.filter { $0.pii != nil && $0.role != .target }
        for column in found where column.pii?.identifierClass == .direct {
            let name = column.name
            let holds = "'\(name)' holds \(column.pii!.summary)"
            switch schema.privacy?[name] {
            case .drop?:
                warnings.append("\(holds): dropped by the privacy policy (the default for direct identifiers), so no model, snapshot, profile or log holds it; --privacy \(name)=pseudonymise with --pii-key-file FILE keeps a joinable pseudonym, --allow-pii \(name) keeps it as it is")
            case .pseudonymise?:
                warnings.append("\(holds): pseudonymised (HMAC-SHA256 under the key of --pii-key-file), so models, snapshots and logs hold only the pseudonyms, and scoring needs the same key")
            case .keep?:
                let use = column.role == .feature ? "used as a feature" : "not a feature (role \(column.role.rawValue))"
                warnings.append("\(holds): kept as it is by --allow-pii \(name) (written to the audit log); it is \(use), and Keel stores it with the data it keeps (snapshots, profiles, logs)")
            case .generalise?, nil:
                let use = column.role == .feature ? "it is used as a feature (--ignore \(name) leaves it out of the model)"
                    : "it is not a feature (role \(column.role.rawValue))"
                warnings.append("\(holds); \(use), and no privacy rule applies to it")
            }
        }
        let quasi = found.filter { $0.pii?.identifierClass == .quasi }
        if !quasi.isEmpty {
            warnings.append("quasi-identifiers, which can single out a person together: " + quasi.map {
                let rule = schema.privacy?[$0.name].map { $0 == .keep ? "kept" : "\($0)" } ?? "kept"
                return "'\($0.name)' (\($0.pii!.kind.description), confidence \(String(format: "%.2f", $0.pii!.confidence)), \(rule))"
            }.joined(separator: ", ") + "; --privacy COLUMN=generalise coarsens one, --privacy COLUMN=drop leaves it out")
        }
        return warnings
    }
}
