import ArgumentParser
import Foundation
import KeelArtifact
import KeelRegistry

/// `keel log …`: the server's prediction log in the registry.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Manage the prediction log (personal data): erase a subject's records.",
        subcommands: [Purge.self]
    )

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase every logged prediction (and its feedback) of one subject, by the model's id column.",
            discussion: "When the log stores the id hashed, give the same hash key as the server (--hash-key-file or KEEL_LOG_HASH_KEY); when the model pseudonymises the id column, give its key (--pii-key-file or KEEL_PII_KEY). Every form is erased.")
        @Option(help: ArgumentHelp("The subject's id (the value of the model's id column).", valueName: "value")) var id: String
        @Option(help: ArgumentHelp("The server's prediction_log hash key.", valueName: "file")) var hashKeyFile: String?
        @Option(help: ArgumentHelp("Who erases, for the audit log (default: the user name).", valueName: "name")) var by: String?
        @OptionGroup var piiKey: PIIKeyOptions
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let store = try await registry.open()
            // The id as sent, its pseudonym when the model pseudonymises its id column, and the log's hash of each.
            var ids = [id]
            if let pseudonymiser = try KeyedHasher.personalDataKey(file: piiKey.keyFile) { ids.append(pseudonymiser.pseudonym(id)) }
            var subjects = ids
            let logKey: KeyedHasher?
            if let file = hashKeyFile {
                logKey = try KeyedHasher(file: file)
            } else if let key = ProcessInfo.processInfo.environment["KEEL_LOG_HASH_KEY"] {
                logKey = try KeyedHasher(base64: key)
            } else {
                logKey = nil
            }
            if let logKey { subjects += ids.map(logKey.hash) }
            var erased = 0
            for subject in subjects { erased += try await store.purgePredictions(subject: subject, actor: by ?? Registry.currentUser) }
            print("erased \(erased) logged prediction\(erased == 1 ? "" : "s") of that subject")
        }
    }
}
