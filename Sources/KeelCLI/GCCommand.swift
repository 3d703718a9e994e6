import ArgumentParser
import KeelRegistry

/// `keel gc`: remove artefacts and snapshots that nothing in the registry references.
struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove unreferenced artefacts and data snapshots.")
    @Flag(help: "List what would be removed, remove nothing.") var dryRun = false
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        let removed = try await registry.open().collectGarbage(dryRun: dryRun, actor: Registry.currentUser)
        for file in removed.files { print("\(dryRun ? "would remove" : "removed") \(file)") }
        print("\(removed.files.count) file\(removed.files.count == 1 ? "" : "s"), \(removed.bytes) bytes\(dryRun ? " (dry run)" : "")")
    }
}
