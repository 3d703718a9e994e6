import Foundation
import KeelData
import KeelLearn

/// Turns the rows of a request into a typed `Frame`: every field is read by the model's input contract
/// (`InputContract`), the same code `keel predict` reads a file's columns with, so a value gets the same
/// verdict in both. What is the server's own: fields that are not columns of the schema are refused (columns
/// of the schema that are not features, such as ids, are accepted and passed through), a field may not
/// repeat, and strings and batches are held to the server's limits.
struct RowDecoder: Sendable {
    let contract: InputContract
    var features: [ColumnSchema] { contract.features }
    let featureIndex: [String: Int]
    /// The schema's other columns (id, target, time, …): accepted in a request, not used for prediction.
    let others: [ColumnSchema]
    /// Every column the schema names: accepted in a request even when the model does not use it.
    let known: Set<String>
    let limits: ServerLimits
    /// The model's privacy rules: applied to each row as it is read, so the frame, the prediction log, the
    /// review queue and explanations see only dropped, pseudonymised or generalised values.
    let privacy: PrivacyGuard?

    init(schema: Schema, limits: ServerLimits, privacy: PrivacyGuard? = nil) {
        self.privacy = privacy
        contract = InputContract(schema: schema)
        featureIndex = contract.featureIndex
        others = schema.columns.filter { $0.role != .feature }
        known = Set(schema.columns.map(\.name))
        self.limits = limits
    }

    /// Whether a body of one member named "rows" is a batch: unless the schema has a column of that name.
    var acceptsBatches: Bool { !known.contains("rows") }

    /// A string's length as JSON Schema's `maxLength` counts it (code points), so the document's limit and
    /// this check agree on every string.
    static func length(_ text: String) -> Int { text.unicodeScalars.count }


    /// The rows of a body: one object, or `{"rows": [objects]}`, as sent: before the privacy rules (`protect`),
    /// which every handler applies before anything else reads a row.
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

    /// A row under the privacy rules: dropped fields removed, the others' values transformed. Values of the
    /// wrong shape (arrays, objects) are left for the input contract to refuse.
    func protect(_ row: [(key: String, value: JSONValue)]) -> [(key: String, value: JSONValue)] {
        guard let privacy else { return row }
        var result: [(key: String, value: JSONValue)] = []
        result.reserveCapacity(row.count)
        for (key, value) in row {
            guard let operation = privacy.operations[key] else { result.append((key, value)); continue }
            switch (operation, value) {
            case (.drop, _): continue
            case (_, .string(let text)): result.append((key, .string(privacy.value(text, operation))))
            case (_, .number(let x)):
                let changed = privacy.value(x, operation)
                result.append((key, changed.number.map(JSONValue.number) ?? .string(changed.text ?? "")))
            case (.pseudonymise, .bool(let flag)), (.prefix, .bool(let flag)):
                result.append((key, .string(privacy.value(flag ? "true" : "false", operation))))
            default: result.append((key, value))
            }
        }
        return result
    }

    /// The typed frame of `rows`, or the first problem found (row and field named).
    func frame(_ rows: [[(key: String, value: JSONValue)]]) throws(APIError) -> Frame {
        let n = rows.count
        var builders = features.map { InputContract.Builder(kind: $0.kind, capacity: n) }
        var seen = [Bool](repeating: false, count: features.count)
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
                let raw: InputContract.Raw
                switch value {
                case .null: raw = .missing
                case .number(let x): raw = .number(x)
                case .bool(let flag): raw = .flag(flag)
                case .string(let text):
                    guard Self.length(text) <= limits.maxStringLength else { throw tooLong(key, r, n) }
                    raw = .string(text)
                case .array, .object: raw = .composite
                }
                switch contract.read(raw, feature: f) {
                case .success(let read): builders[f].append(read)
                case .failure(let problem): throw refusal(problem, r, n)
                }
            }
            for f in features.indices where !seen[f] {
                if let problem = contract.absent(feature: f) { throw refusal(problem, r, n) }
                builders[f].append(.missing)
            }
        }
        do {
            return try Frame(columns: zip(features, builders).map { $1.column(named: $0.name) })
        } catch {
            throw APIError(.internalServerError, "internal", "could not assemble the rows: \(error)")
        }
    }

    private func rowIndex(_ r: Int, _ n: Int) -> Int? { n > 1 ? r : nil }

    /// The contract's problem as the API's error: its code, its sentence, the row and the field.
    private func refusal(_ problem: InputContract.Problem, _ r: Int, _ n: Int) -> APIError {
        APIError(.unprocessableContent, problem.code.rawValue, problem.message, row: rowIndex(r, n), field: problem.field)
    }

    private func tooLong(_ field: String, _ r: Int, _ n: Int) -> APIError {
        APIError(.unprocessableContent, "string_too_long", "'\(APIError.truncated(field))' is longer than \(limits.maxStringLength) characters",
                 row: rowIndex(r, n), field: field)
    }

    /// What a column accepts, in words (the document's description of a field): the contract's sentence,
    /// and whether it may be null.
    static func expected(_ feature: ColumnSchema) -> String {
        InputContract.expected(feature) + (feature.nullable ? " (or null when missing)" : " (null is read as missing)")
    }
}
