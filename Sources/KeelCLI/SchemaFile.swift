import Foundation
import KeelData
import KeelLifecycle
import Yams

/// Schema files: YAML (the default) or JSON (by the `.json` extension), written by `keel inspect --write-schema`.
enum SchemaFile {
    static func read(_ path: String) throws -> Schema {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.cannotOpen(file: path, reason: "no such file or not readable")
        }
        do {
            if path.lowercased().hasSuffix(".json") { return try JSONDecoder().decode(Schema.self, from: data) }
            return try YAMLDecoder().decode(Schema.self, from: data)
        } catch let error as DecodingError {
            throw DataError.invalidSchema("\(path): \(describe(error))")
        } catch {
            throw DataError.invalidSchema("\(path): \(error)")
        }
    }

    static func write(_ schema: Schema, to path: String) throws {
        let text: String
        if path.lowercased().hasSuffix(".json") {
            text = try JSONOutput.string(schema) + "\n"
        } else {
            text = "# Keel schema: edit kinds and roles, then pass it with --schema.\n" + (try YAMLEncoder().encode(schema))
        }
        try AtomicFile.write(text, to: path)
    }

    /// "at columns[2].kind: 'number' is not one of numeric, categorical, …" rather than Swift's debug text.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return keys.isEmpty ? "the document" : String(keys.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "at \(path(context)): the required key '\(key.stringValue)' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "at \(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
