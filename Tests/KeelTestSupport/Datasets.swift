import Foundation
import KeelData

/// The shared benchmark datasets, read in place (never copied into the repo).
public enum Datasets {
    /// Root of this package, from this file's location.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$KEEL_DATASETS`, else `../shared/datasets` beside the checkout.
    public static var folder: URL {
        if let custom = ProcessInfo.processInfo.environment["KEEL_DATASETS"], !custom.isEmpty {
            return URL(fileURLWithPath: custom)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets")
    }

    public struct Entry: Decodable, Sendable, CustomStringConvertible {
        public let name: String
        public let file: String
        public let target: String
        public let task: String
        public let rows: Int
        public let columns: Int
        public let missingCells: Int
        public let stringColumns: [String]
        public let dateColumns: [String]
        public let idLikeColumns: [String]
        public let nClasses: Int?

        enum CodingKeys: String, CodingKey {
            case name, file, target, task, rows, columns
            case missingCells = "missing_cells"
            case stringColumns = "string_columns"
            case dateColumns = "date_columns"
            case idLikeColumns = "id_like_columns"
            case nClasses = "n_classes"
        }

        public var path: String { Datasets.folder.appendingPathComponent(file).path }
        public var description: String { name }
    }

    private struct Manifest: Decodable { let datasets: [Entry] }

    /// Every dataset in the manifest; empty (and the caller's test fails on that) when the folder is missing.
    public static let all: [Entry] = {
        let url = folder.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: url), let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
            return []
        }
        return manifest.datasets
    }()

    public static func named(_ name: String) -> Entry? { all.first { $0.name == name } }

    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// The first `rows` rows of a dataset and the schema inferred for its target, for tests that search.
    public static func sample(_ name: String, rows: Int) throws -> (frame: Frame, schema: Schema) {
        guard let entry = named(name) else { throw Missing(description: "dataset '\(name)' is not in \(folder.path)/manifest.json") }
        let frame = try CSVReader.read(path: entry.path).selecting(rows: Array(0..<rows))
        return (frame, try SchemaInference.infer(frame, target: entry.target).schema)
    }
}
