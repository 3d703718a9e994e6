import ArgumentParser
import Foundation
import KeelData
import KeelLifecycle
import KeelRegistry

/// `keel registry copy|backup|restore`: move a whole registry between a folder and PostgreSQL, and keep it.
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "Copy, back up and restore a whole registry (a folder or PostgreSQL).",
        discussion: """
        A copy or a backup holds everything: datasets, runs, versions and their stages, approvals, the audit \
        log (entries keep their hashes, so the chain verifies on the other side), checkpoints, the prediction \
        log with feedback, the review queue, the stored model files and snapshots, and the registry's signing \
        key. The target must be new or empty. API keys files and keel.yaml stay where they are.
        """,
        subcommands: [Copy.self, Backup.self, Restore.self, Config.self])

    /// Opens a location for dumping or loading.
    static func open(_ location: String, create: Bool) async throws -> any RegistryDumping {
        guard let store = try await RegistryStores.open(location, create: create) as? any RegistryDumping else {
            throw ValidationError("the registry at \(location) cannot be copied by this Keel")
        }
        return store
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a registry into a new one, e.g. a folder into PostgreSQL; both audit chains are verified.")
        @Option(help: ArgumentHelp("The registry copied: a folder or a postgres:// URL.", valueName: "path|url")) var from: String
        @Option(help: ArgumentHelp("The new registry: a folder or a postgres:// URL of an empty database.", valueName: "path|url")) var to: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let source = try await RegistryCommand.open(from, create: false)
            let target = try await RegistryCommand.open(to, create: true)
            let dump = try await RegistryCopy.copy(from: source, to: target)
            try await target.audit(actor: Registry.currentUser, action: "registry.copy", subject: target.location,
                                   details: ["source": source.location, "entries": String(dump.entryCount), "files": String(dump.files.count)])
            if json { return print(try JSONOutput.string(["source": source.location, "target": target.location, "copied": dump.summary])) }
            print("copied \(source.location) to \(target.location): \(dump.summary); both audit chains verify")
        }
    }

    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a keel.yaml (gates, humility rules, retraining policies) into the registry, or print the one it has.",
            discussion: """
            A registry folder reads keel.yaml from its folder; a registry on PostgreSQL keeps it in its database, so \
            that every host reads the same one. `push` checks the file first, stores it (audited as config.add or \
            config.change) and tells servers following the registry; `show` prints what the registry holds.
            """)
        @Argument(help: "push FILE, or show.") var action: String
        @Argument(help: "The keel.yaml to push.") var file: String?
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let store = try await registry.open(create: action == "push")
            switch (action, file) {
            case ("push", let file?):
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                _ = try RegistryConfig.read(file, text: String(decoding: data, as: UTF8.self))
                if let database = store as? PostgresStore {
                    let changed = try await database.putConfigurationFile("keel.yaml", content: Array(data), actor: Registry.currentUser)
                    return print(changed ? "stored \(file) as the keel.yaml of \(store.location)" : "\(store.location) already has this keel.yaml")
                }
                let path = store.location + "/keel.yaml"
                try AtomicFile.write(Array(data), to: path)
                try await store.noteConfiguration(path: path, content: Array(data), actor: Registry.currentUser)
                print("wrote \(path)")
            case ("show", nil):
                let bytes: [UInt8]? = if let database = store as? PostgresStore {
                    try await database.configurationFile("keel.yaml")
                } else {
                    FileManager.default.contents(atPath: store.location + "/keel.yaml").map(Array.init)
                }
                guard let bytes else { throw RegistryError.notFound("the registry at \(store.location) has no keel.yaml") }
                print(String(decoding: bytes, as: UTF8.self), terminator: "")
            default:
                throw ValidationError("use `keel registry config push FILE` or `keel registry config show`")
            }
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the whole registry to one file (written to a temporary name, renamed when whole).")
        @Option(help: ArgumentHelp("The backup file.", valueName: "file")) var out: String
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let store = try await RegistryCommand.open(registry.folder, create: false)
            let verification = try await store.verifyAudit()
            if let problem = verification.problem { throw CheckFailed(message: "the registry fails its audit check, so it is not backed up: \(problem)") }
            let dump = try await RegistryBackup.write(store, to: out)
            print("backed up \(store.location) to \(out): \(dump.summary)")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore a backup into a new registry (a folder or an empty PostgreSQL database).")
        @Argument(help: "The backup file from `keel registry backup`.") var file: String
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let store = try await RegistryCommand.open(registry.folder, create: true)
            let dump = try await RegistryBackup.restore(file, into: store)
            let verification = try await store.verifyAudit()
            if let problem = verification.problem { throw CheckFailed(message: "the restored registry fails its audit check: \(problem)") }
            try await store.audit(actor: Registry.currentUser, action: "registry.restore", subject: store.location,
                                  details: ["backup": file, "entries": String(dump.entryCount), "files": String(dump.files.count)])
            print("restored \(file) into \(store.location): \(dump.summary); the audit chain verifies")
        }
    }
}
