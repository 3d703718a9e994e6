import ArgumentParser
import Foundation
import KeelData
import KeelLifecycle

/// `keel inspect FILE`: the inferred schema and a profile of every column.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Profile a data file: inferred schema, column statistics, task and warnings.",
        discussion: """
        Prints a table with each column's kind, role, missing share, distinct count, range or top levels and \
        flags. Every inference can be overridden with the schema flags or a schema file; --write-schema saves \
        the result for editing and for later commands (--schema FILE).
        """
    )

    @Argument(help: "A CSV (optionally .gz) or Parquet file.")
    var file: String

    @OptionGroup var data: DataOptions

    @Flag(help: "Print one JSON document on standard output.")
    var json = false

    @Flag(help: "No progress on standard error.")
    var quiet = false

    @Option(help: ArgumentHelp("Write the resulting schema to this file (YAML, or JSON for .json).", valueName: "file"))
    var writeSchema: String?

    func run() async throws {
        let loaded = try data.load(file, quiet: quiet || json, protect: false)
        let profile = DataProfile(loaded)
        if let writeSchema {
            try SchemaFile.write(loaded.schema, to: writeSchema)
            if !quiet { Terminal.progress("wrote schema to \(writeSchema)") }
        }
        if json {
            print(try JSONOutput.string(profile))
        } else {
            print(profile.text())
        }
    }
}
