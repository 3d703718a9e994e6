import ArgumentParser
import Foundation
import KeelLifecycle
import KeelRegistry

/// `keel datasets …`: the datasets runs were trained on.
struct DatasetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List and inspect registered datasets.",
        subcommands: [List.self, Show.self, Export.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every registered dataset, newest first.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let datasets = try await registry.open().datasets()
            if json { return print(try JSONOutput.string(datasets)) }
            guard !datasets.isEmpty else { return print("no datasets registered in \(registry.folder)") }
            print(TextTable.render(header: ["fingerprint", "name", "source", "rows", "columns", "snapshot", "registered"], rows: datasets.map {
                [String($0.fingerprint.prefix(16)), $0.name, $0.source, String($0.rows), String($0.columns), $0.snapshot == nil ? "no" : "yes", $0.createdAt]
            }, rightAligned: [3, 4]).joined(separator: "\n"))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One dataset: source, schema and profile.")
        @Argument(help: "The fingerprint or its first characters.") var fingerprint: String
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let dataset = try await registry.open().dataset(fingerprint)
            // The stored schema and profile are JSON documents themselves: show them as such, not as strings.
            var document: [String: Any] = [
                "fingerprint": dataset.fingerprint, "name": dataset.name, "source": dataset.source, "rows": dataset.rows,
                "columns": dataset.columns, "snapshot": dataset.snapshot ?? NSNull(), "registered": dataset.createdAt,
            ]
            for (key, text) in [("schema", dataset.schemaJSON), ("profile", dataset.profileJSON)] {
                document[key] = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? text
            }
            let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a registered dataset's snapshot back out as CSV.",
            discussion: "The snapshot holds the data as training kept it: after the privacy policy, so dropped columns are absent and pseudonymised ones hold their pseudonyms."
        )
        @Argument(help: "The fingerprint or its first characters.") var fingerprint: String
        @Option(help: ArgumentHelp("The CSV file to write.", valueName: "file")) var out: String
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let store = try await registry.open()
            let dataset = try await store.dataset(fingerprint)
            guard let snapshot = dataset.snapshot else {
                throw ValidationError("dataset \(dataset.fingerprint.prefix(16)) (\(dataset.name)) has no snapshot: it was registered with --no-snapshot")
            }
            let frame = try await store.loadSnapshot(snapshot)
            try CSVLine.write(frame, to: out)
            Terminal.progress("wrote \(frame.rowCount) rows × \(frame.columnCount) columns of dataset \(dataset.fingerprint.prefix(16)) to \(out)")
        }
    }
}
