import Foundation
import KeelData

/// The input contract as JSON Schema (2020-12, as OpenAPI 3.1 uses it): exactly what `frame(_:)` and
/// `rows(of:)` accept, written next to them so the two are read and changed together. A value the schema
/// allows is accepted and one it forbids is refused; the OpenAPI contract test sends both kinds.
extension RowDecoder {
    /// One row: the model's features (required unless they may be missing) and its other schema columns,
    /// nothing else.
    func rowSchema() -> [String: Any] {
        var properties: [String: Any] = [:]
        for feature in features { properties[feature.name] = featureSchema(feature) }
        for column in others {
            properties[column.name] = [
                "type": ["string", "number", "boolean", "null"], "maxLength": limits.maxStringLength,
                "description": "\(column.role.rawValue) column: accepted and not used for prediction",
            ] as [String: Any]
        }
        var row: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false,
                                  "description": "One row, keyed by column. A feature training never saw missing must be present; null (or a word training read as missing) is a missing value in any feature, warned as unexpected_missing where training never saw one; a feature left out is a missing value where the model allows one."]
        let required = features.filter { !$0.nullable }.map(\.name)
        if !required.isEmpty { row["required"] = required }
        return row
    }

    /// A request body: one row, or `{"rows": [row, …]}` with 1 to `maxRows` rows.
    func bodySchema(row: [String: Any], maxRows: Int) -> [String: Any] {
        guard acceptsBatches else { return row }
        let batch: [String: Any] = [
            "type": "object", "required": ["rows"], "additionalProperties": false,
            "properties": ["rows": ["type": "array", "minItems": 1, "maxItems": maxRows, "items": row] as [String: Any]],
        ]
        return ["oneOf": [row, batch]]
    }

    func featureSchema(_ feature: ColumnSchema) -> [String: Any] {
        var types: [String]
        var schema: [String: Any] = ["description": "\(feature.kind.rawValue): \(Self.expected(feature))"]
        switch feature.kind {
        case .numeric:
            types = ["number"]
            if let words = feature.missingWords, !words.isEmpty {
                types.append("string")
                schema["pattern"] = "^[ \\t]*(?:" + words.map(Self.regexEscaped).joined(separator: "|") + ")[ \\t]*$"
            }
        case .datetime:
            types = ["string"]
            schema["pattern"] = DatePattern.accepted
        case .boolean:
            types = ["boolean", "string"]
            schema["pattern"] = "^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"
        case .categorical, .text:
            // Numbers and booleans are read as their text, as in `keel predict`, where every value is text.
            types = ["string", "number", "boolean"]
            schema["maxLength"] = limits.maxStringLength
        }
        // Null is a missing value in every feature (warned where training never saw one); presence is what
        // `required` asks of the features that were never missing.
        types.append("null")
        schema["type"] = types
        return schema
    }

    /// `text` with the characters a regular expression reads specially escaped.
    static func regexEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\^$.|?*+()[]{}".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}

/// The spellings `DateTimeParser` accepts, as one regular expression (ECMA 262, as JSON Schema reads it):
/// `YYYY-MM-DD`, `YYYY/MM/DD` or `DD.MM.YYYY`, each a real calendar day (29 February in leap years only),
/// optionally followed by `T` or a space and `HH:MM[:SS[.fraction]]` with an optional `Z`, `±HH`, `±HHMM` or
/// `±HH:MM` offset. Digits are written `[0-9]`: `\d` is wider than ASCII in some engines.
enum DatePattern {
    /// Years divisible by 4 and not by 100, or by 400.
    private static let leapYear = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
    private static let day31 = "(?:0[1-9]|[12][0-9]|3[01])"
    private static let day30 = "(?:0[1-9]|[12][0-9]|30)"
    private static let day28 = "(?:0[1-9]|1[0-9]|2[0-8])"
    private static let month31 = "(?:0[13578]|1[02])"
    private static let month30 = "(?:0[469]|11)"

    /// Year first, with `separator` between the parts.
    private static func yearFirst(_ separator: String) -> String {
        let s = separator
        return "(?:[0-9]{4}\(s)(?:\(month31)\(s)\(day31)|\(month30)\(s)\(day30)|02\(s)\(day28))|\(leapYear)\(s)02\(s)29)"
    }

    private static let dayFirst =
        "(?:(?:\(day31)\\.\(month31)|\(day30)\\.\(month30)|\(day28)\\.02)\\.[0-9]{4}|29\\.02\\.\(leapYear))"
    private static let time = "(?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60)(?:[.,][0-9]+)?)?"
    private static let offset = "(?:Z|[+-](?:0[0-9]|1[0-4])(?::?[0-5][0-9])?)"

    static let accepted = "^(?:\(yearFirst("-"))|\(yearFirst("/"))|\(dayFirst))(?:[T ]\(time)\(offset)?)?$"
}
