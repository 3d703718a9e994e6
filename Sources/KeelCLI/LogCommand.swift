import ArgumentParser
import Foundation
import KeelArtifact
import KeelRegistry

/// `keel log …`: the server's prediction log in the registry.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Manage the prediction log (personal data): erase a subject's records.",
        subcommands: [Purge.self]
    )

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase every logged prediction (and its feedback) of one subject, by the model's id column.",
            discussion: "When the log stores the id hashed, give the same hash key as the server (--hash-key-file or KEEL_LOG_HASH_KEY); both forms are erased.")
        @Option(help: ArgumentHelp("The subject's id (the value of the model's id column).", valueName: "value")) var id: String
        @Option(help: ArgumentHelp("The server's prediction_log hash key.", valueName: "file")) var hashKeyFile: String?
        @Option(help: ArgumentHelp("Who erases, for the audit log (default: the user name).", valueName: "name")) var by: String?
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            let store = try registry.open()
            var subjects = [id]
            if let file = hashKeyFile {
                subjects.append(try KeyedHasher(file: file).hash(id))
            } else if let key = ProcessInfo.processInfo.environment["KEEL_LOG_HASH_KEY"] {
                subjects.append(try KeyedHasher(base64: key).hash(id))
            }
            let erased = try subjects.reduce(0) { $0 + (try store.purgePredictions(subject: $1, actor: by ?? Registry.currentUser)) }
            print("erased \(erased) logged prediction\(erased == 1 ? "" : "s") of that subject")
        }
    }
}
