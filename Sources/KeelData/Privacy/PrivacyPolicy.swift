import Foundation

/// Decides each column's privacy rule: the rules declared (schema file, train config, `--privacy`) are
/// checked against the data, and every personal-data column without one gets the default: direct
/// identifiers are dropped, quasi-identifiers kept (and listed).
public enum PrivacyPolicy {
    /// A rule and where it was declared, for messages ("--privacy", "schema file key privacy", …).
    public struct Declared: Sendable {
        public var rule: PrivacyRule
        public var source: String

        public init(_ rule: PrivacyRule, source: String) {
            (self.rule, self.source) = (rule, source)
        }
    }

    /// Fills `schema.privacy` from `declared` and the defaults; drops nothing yet (`PrivacyGuard` does).
    /// `allowed` are the columns `--allow-pii` names: a direct identifier is kept only when it is named there.
    ///
    /// - Throws: a rule for a column the data lacks or for the target; `keep` of a direct identifier without
    ///   `--allow-pii`; a generalisation that does not fit the column; a default drop of a column the run
    ///   needs (the group, time or weight column).
    public static func resolve(_ schema: inout Schema, declared: [String: Declared], allowed: [String]) throws {
        let names = Set(schema.columns.map(\.name))
        for (name, entry) in declared.sorted(by: { $0.key < $1.key }) where !names.contains(name) {
            throw DataError.invalidSchema("\(entry.source) names column '\(name)', which is not in the data; the columns are: \(schema.columns.map(\.name).joined(separator: ", "))")
        }
        for name in allowed where !names.contains(name) {
            throw DataError.invalidSchema("--allow-pii names column '\(name)', which is not in the data; the columns are: \(schema.columns.map(\.name).joined(separator: ", "))")
        }
        var rules: [String: PrivacyRule] = [:]
        for column in schema.columns {
            let name = column.name
            let direct = column.pii?.identifierClass == .direct
            if let entry = declared[name] {
                if name == schema.target {
                    // `keep` of the target is what happens anyway (a schema file from inspect may say it).
                    if entry.rule == .keep { continue }
                    throw DataError.invalidSchema("\(entry.source): '\(name)' is the target; a privacy rule cannot apply to the column the model predicts")
                }
                if [.time, .weight].contains(column.role), entry.rule != .keep {
                    throw DataError.invalidSchema("\(entry.source): '\(name)' is the \(column.role.rawValue) column, which must keep its values to order or weigh rows; keep it or choose another \(column.role.rawValue) column")
                }
                if allowed.contains(name), entry.rule != .keep {
                    throw DataError.invalidSchema("--allow-pii \(name) keeps the column, but \(entry.source) says \(name): \(entry.rule); say one of them")
                }
                if entry.rule == .keep, direct, !allowed.contains(name) {
                    throw DataError.invalidSchema("\(entry.source): keeping '\(name)' needs --allow-pii \(name): it holds \(column.pii!.summary), and keeping a direct identifier is written to the audit log")
                }
                if case .generalise(let level) = entry.rule { try check(level, for: column, source: entry.source) }
                rules[name] = entry.rule
            } else if allowed.contains(name) {
                if name == schema.target {
                    throw DataError.invalidSchema("--allow-pii \(name): '\(name)' is the target; a privacy rule cannot apply to the column the model predicts")
                }
                rules[name] = .keep
            } else if let pii = column.pii, name != schema.target {
                if pii.identifierClass == .direct {
                    if column.role == .group {
                        throw DataError.invalidSchema("'\(name)' is the group column and holds \(pii.summary), which is dropped by default: pseudonymise it (--privacy \(name)=pseudonymise --pii-key-file FILE; groups stay groups) or keep it (--allow-pii \(name))")
                    }
                    if [.time, .weight].contains(column.role) {
                        throw DataError.invalidSchema("'\(name)' is the \(column.role.rawValue) column and holds \(pii.summary), which is dropped by default: keep it (--allow-pii \(name)) or choose another \(column.role.rawValue) column")
                    }
                    rules[name] = .drop
                } else {
                    rules[name] = .keep
                }
            }
        }
        // The role follows the rule: a dropped column is no feature, whatever the flags said; nothing of its
        // values stays in the schema (words read as missing in a numeric column).
        for index in schema.columns.indices where rules[schema.columns[index].name] == .drop {
            schema.columns[index].role = .ignored
            schema.columns[index].missingWords = nil
        }
        schema.privacy = rules.isEmpty ? nil : rules
    }

    /// Whether `level` fits `column`: bands for numbers, prefixes for text, months or years for dates, and
    /// nothing for direct identifiers, whose parts still identify (drop or pseudonymise them).
    static func check(_ level: PrivacyRule.Level?, for column: ColumnSchema, source: String) throws {
        let rule = PrivacyRule.generalise(level)
        if let pii = column.pii, pii.identifierClass == .direct {
            throw DataError.invalidSchema("\(source): \(column.name): \(rule) does not fit \(pii.kind.description), a direct identifier; drop or pseudonymise it")
        }
        switch (column.kind, level) {
        case (.boolean, _):
            throw DataError.invalidSchema("\(source): \(column.name): a true/false column cannot be generalised further; drop, pseudonymise or keep it")
        case (.datetime, .width):
            throw DataError.invalidSchema("\(source): \(column.name): \(rule) does not fit a date column; dates generalise to `month` or `year`")
        case (.numeric, .month), (.numeric, .year), (.categorical, .month), (.categorical, .year), (.text, .month), (.text, .year):
            throw DataError.invalidSchema("\(source): \(column.name): \(rule) does not fit a \(column.kind.rawValue) column; `month` and `year` are for dates (numbers take a band width, text the characters kept)")
        case (.categorical, .width(let width)), (.text, .width(let width)):
            guard width == width.rounded(), width >= 1, width <= 64 else {
                throw DataError.invalidSchema("\(source): \(column.name): \(rule): a text column keeps a whole number of characters, 1 to 64")
            }
        case (.numeric, _) where column.pii?.kind == .postcode:
            throw DataError.invalidSchema("\(source): \(column.name): postcodes read as numbers lose their leading zeros; read the column as text (--categorical \(column.name)) to generalise it to a prefix")
        default:
            break
        }
    }

    /// Columns whose rule needs them read as text, before the file is read: pseudonymised ones, so `0042` and
    /// `42` stay different values in training and in scoring.
    public static func textColumns(_ declared: [String: Declared]) -> [String] {
        declared.filter { $0.value.rule == .pseudonymise }.keys.sorted()
    }
}

extension Schema {
    /// The column names each rule applies to, in schema order.
    public func columns(withPrivacy rule: (PrivacyRule) -> Bool) -> [String] {
        columns.map(\.name).filter { privacy?[$0].map(rule) ?? false }
    }

    /// Whether scoring this schema's data needs a pseudonymisation key.
    public var needsPseudonymKey: Bool { privacy?.values.contains(.pseudonymise) ?? false }
}
