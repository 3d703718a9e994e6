import Foundation
import KeelData
import KeelLearn

/// Turns the rows of a request into a typed `Frame`, checking every field against the model's schema with
/// the same rules as `keel predict`: required features present, values of the feature's kind, no unknown
/// fields (columns of the schema that are not features, such as ids, are accepted and passed through).
struct RowDecoder: Sendable {
    let features: [ColumnSchema]
    let featureIndex: [String: Int]
    /// The schema's other columns (id, target, time, …): accepted in a request, not used for prediction.
    let others: [ColumnSchema]
    /// Every column the schema names: accepted in a request even when the model does not use it.
    let known: Set<String>
    let limits: ServerLimits

    init(schema: Schema, limits: ServerLimits) {
        features = schema.columns(withRole: .feature)
        featureIndex = Dictionary(uniqueKeysWithValues: features.enumerated().map { ($1.name, $0) })
        others = schema.columns.filter { $0.role != .feature }
        known = Set(schema.columns.map(\.name))
        self.limits = limits
    }

    /// Whether a body of one member named "rows" is a batch: unless the schema has a column of that name.
    var acceptsBatches: Bool { !known.contains("rows") }

    /// A string's length as JSON Schema's `maxLength` counts it (code points), so the document's limit and
    /// this check agree on every string.
    static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// The blanks around a missing-value word ("unknown") that still read as missing: spaces and tabs.
    static let blanks = CharacterSet(charactersIn: " \t")

    /// The rows of a body: one object, or `{"rows": [objects]}`.
    func rows(of body: JSONValue) throws(APIError) -> [[(key: String, value: JSONValue)]] {
        guard case .object(let members) = body else {
            throw APIError(.badRequest, "invalid_body", "the body must be a JSON object (one row) or {\"rows\": [ … ]}")
        }
        guard members.count == 1, members[0].key == "rows", acceptsBatches else { return [members] }
        guard case .array(let items) = members[0].value else {
            throw APIError(.unprocessableContent, "invalid_body", "\"rows\" must be an array of row objects", field: "rows")
        }
        guard !items.isEmpty else { throw APIError(.unprocessableContent, "empty_batch", "\"rows\" is empty", field: "rows") }
        guard items.count <= limits.maxRows else {
            throw APIError(.unprocessableContent, "too_many_rows", "\(items.count) rows in one request; the limit is \(limits.maxRows)", field: "rows")
        }
        var rows: [[(key: String, value: JSONValue)]] = []
        rows.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard case .object(let row) = item else {
                throw APIError(.unprocessableContent, "invalid_row", "row \(index) must be a JSON object", row: index)
            }
            rows.append(row)
        }
        return rows
    }

    /// The typed frame of `rows`, or the first problem found (row and field named).
    func frame(_ rows: [[(key: String, value: JSONValue)]]) throws(APIError) -> Frame {
        let n = rows.count
        var numbers = [[Double]](repeating: [], count: features.count)
        var flags = [[UInt8]](repeating: [], count: features.count)
        var strings = [LevelCoder](repeating: LevelCoder(), count: features.count)
        var seen = [Bool](repeating: false, count: features.count)
        for (f, feature) in features.enumerated() {
            switch feature.kind {
            case .numeric, .datetime: numbers[f].reserveCapacity(n)
            case .boolean: flags[f].reserveCapacity(n)
            case .categorical, .text: strings[f] = LevelCoder(capacity: n)
            }
        }
        for (r, row) in rows.enumerated() {
            for i in seen.indices { seen[i] = false }
            for (key, value) in row {
                guard let f = featureIndex[key] else {
                    guard known.contains(key) else {
                        throw APIError(.unprocessableContent, "unknown_field", "'\(APIError.truncated(key))' is not a column of this model's schema", row: rowIndex(r, n), field: key)
                    }
                    // Not used, but held to the same limits as a feature: a scalar, a string within the length.
                    switch value {
                    case .string(let text) where Self.length(text) > limits.maxStringLength: throw tooLong(key, r, n)
                    case .array, .object:
                        throw APIError(.unprocessableContent, "wrong_type", "'\(APIError.truncated(key))' must be a string, a number, a boolean or null",
                                       row: rowIndex(r, n), field: key)
                    default: continue
                    }
                }
                guard !seen[f] else {
                    throw APIError(.unprocessableContent, "duplicate_field", "'\(APIError.truncated(key))' appears twice", row: rowIndex(r, n), field: key)
                }
                seen[f] = true
                let feature = features[f]
                switch (feature.kind, value) {
                case (_, .null):
                    try requireNullable(feature, r, n)
                    appendMissing(feature.kind, f, &numbers, &flags, &strings)
                case (.numeric, .number(let x)):
                    numbers[f].append(x)
                case (.numeric, .string(let text)) where feature.missingWords?.contains(text.trimmingCharacters(in: Self.blanks)) == true:
                    // A word training read as missing among this column's numbers ("unknown") is missing here too.
                    numbers[f].append(.nan)
                case (.datetime, .string(let text)):
                    guard let seconds = DateTimeParser.parse(text) else { throw wrongType(feature, Self.expected(feature), r, n) }
                    numbers[f].append(seconds)
                case (.boolean, .bool(let flag)):
                    flags[f].append(flag ? 1 : 0)
                case (.boolean, .string(let text)) where ["true", "false"].contains(text.lowercased()):
                    flags[f].append(text.lowercased() == "true" ? 1 : 0)
                case (.categorical, .string(let text)), (.text, .string(let text)):
                    guard Self.length(text) <= limits.maxStringLength else { throw tooLong(key, r, n) }
                    strings[f].append(text)
                case (.categorical, .number(let x)), (.text, .number(let x)):
                    strings[f].append(NumberFormatting.canonical(x))
                case (.categorical, .bool(let flag)), (.text, .bool(let flag)):
                    strings[f].append(flag ? "true" : "false")
                default:
                    throw wrongType(feature, Self.expected(feature), r, n)
                }
            }
            for (f, feature) in features.enumerated() where !seen[f] {
                try requireNullable(feature, r, n)
                appendMissing(feature.kind, f, &numbers, &flags, &strings)
            }
        }
        var columns: [Column] = []
        columns.reserveCapacity(features.count)
        for (f, feature) in features.enumerated() {
            let values: ColumnValues = switch feature.kind {
            case .numeric: .numeric(numbers[f])
            case .datetime: .datetime(numbers[f])
            case .boolean: .boolean(flags[f])
            case .categorical: .categorical(strings[f].encoded)
            case .text: .text(strings[f].encoded)
            }
            columns.append(Column(name: feature.name, values: values))
        }
        do {
            return try Frame(columns: columns)
        } catch {
            throw APIError(.internalServerError, "internal", "could not assemble the rows: \(error)")
        }
    }

    private func rowIndex(_ r: Int, _ n: Int) -> Int? { n > 1 ? r : nil }

    private func requireNullable(_ feature: ColumnSchema, _ r: Int, _ n: Int) throws(APIError) {
        guard feature.nullable else {
            throw APIError(.unprocessableContent, "missing_field",
                           "'\(feature.name)' is required: it had no missing values in training", row: rowIndex(r, n), field: feature.name)
        }
    }

    private func wrongType(_ feature: ColumnSchema, _ expected: String, _ r: Int, _ n: Int) -> APIError {
        APIError(.unprocessableContent, "wrong_type", "'\(feature.name)' must be \(expected)", row: rowIndex(r, n), field: feature.name)
    }

    private func tooLong(_ field: String, _ r: Int, _ n: Int) -> APIError {
        APIError(.unprocessableContent, "string_too_long", "'\(APIError.truncated(field))' is longer than \(limits.maxStringLength) characters",
                 row: rowIndex(r, n), field: field)
    }

    private func appendMissing(_ kind: ColumnKind, _ f: Int, _ numbers: inout [[Double]], _ flags: inout [[UInt8]], _ strings: inout [LevelCoder]) {
        switch kind {
        case .numeric, .datetime: numbers[f].append(.nan)
        case .boolean: flags[f].append(Column.missingBoolean)
        case .categorical, .text: strings[f].appendMissing()
        }
    }

    /// What a column accepts, in words: the sentence of a wrong_type error and of the document's description.
    static func expected(_ feature: ColumnSchema) -> String {
        let missing = feature.nullable ? " (or null when missing)" : ""
        switch feature.kind {
        case .numeric:
            let words = (feature.missingWords ?? []).map { "\"\($0)\"" }.joined(separator: ", ")
            return "a number" + (words.isEmpty ? "" : " (\(words) for a missing value)") + missing
        case .datetime: return "a date or date-time string such as 2024-05-31 or 2024-05-31T08:15:00Z" + missing
        case .boolean: return "true or false (the strings \"true\" and \"false\" in any case too)" + missing
        case .categorical, .text: return "a string (numbers and booleans are read as their text)" + missing
        }
    }
}
