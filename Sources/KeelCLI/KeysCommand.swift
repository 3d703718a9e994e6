import ArgumentParser
import Foundation
import KeelData
import KeelRegistry

/// `keel keys`: API keys for the server and key pairs for signing and encrypting model files.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create API keys and signing or encryption keys.",
        subcommands: [Create.self, List.self, Revoke.self, GenerateSigning.self, GenerateEncryption.self]
    )

    struct StoreOption: ParsableArguments {
        @Option(help: ArgumentHelp("The API keys file (default $KEEL_HOME/api-keys.json, else .keel/api-keys.json).", valueName: "file"))
        var keysFile: String?

        var path: String { keysFile ?? APIKeyStore.defaultPath() }

        /// Key changes go into the audit log of the registry the keys file lives in, when there is one.
        func audit(_ action: String, subject: String, details: [String: String]) throws {
            let folder = (path as NSString).deletingLastPathComponent
            guard Registry.exists(at: folder.isEmpty ? "." : folder) else { return }
            try Registry(folder: folder.isEmpty ? "." : folder, create: false)
                .audit(actor: Registry.currentUser, action: action, subject: subject, details: details)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue an API key; it is printed once and only its SHA-256 is stored.",
            discussion: "The predict role may call predict, explain and feedback; admin may call everything."
        )

        @Option(help: "predict or admin.")
        var role: APIKeyRole

        @Option(help: "A label for the key (who or what uses it).")
        var name = "default"

        @OptionGroup var store: StoreOption

        func run() async throws {
            var keys = try APIKeyStore(path: store.path)
            let (record, secret) = try keys.create(role: role, name: name)
            try store.audit("key.create", subject: record.id, details: ["name": record.name, "role": record.role.rawValue])
            Terminal.progress("created \(record.role.rawValue) key \(record.id) ('\(record.name)') in \(store.path); the secret below is shown only now")
            print(secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (ids, names, roles; never secrets).")

        @OptionGroup var store: StoreOption

        func run() async throws {
            let keys = try APIKeyStore(path: store.path)
            let rows = keys.keys.map { [$0.id, $0.name, $0.role.rawValue, $0.createdAt] }
            print(TextTable.render(header: ["id", "name", "role", "created"], rows: rows).joined(separator: "\n"))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an API key; a running server stops accepting it on its next reload.")

        @Argument(help: "The key's id (from `keel keys list`).")
        var id: String

        @OptionGroup var store: StoreOption

        func run() async throws {
            var keys = try APIKeyStore(path: store.path)
            guard try keys.revoke(id: id) else { throw ValidationError("no API key with id '\(id)' in \(store.path)") }
            try store.audit("key.revoke", subject: id, details: [:])
            Terminal.progress("revoked key \(id)")
        }
    }

    struct GenerateSigning: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-signing",
            abstract: "Make an Ed25519 key pair: PREFIX.key signs (`train --sign-key-file`), PREFIX.pub verifies (`--verify-key-file`)."
        )

        @Option(help: ArgumentHelp("Path prefix of the two files.", valueName: "prefix"))
        var out = "keel-signing"

        func run() async throws {
            let key = SigningKey.generate()
            for path in ["\(out).key", "\(out).pub"] where FileManager.default.fileExists(atPath: path) {
                throw ValidationError("\(path) exists; refusing to overwrite a key")
            }
            try AtomicFile.write(key.base64 + "\n", to: "\(out).key")
            chmod("\(out).key", 0o600)
            try AtomicFile.write(key.verifyKey.base64 + "\n", to: "\(out).pub")
            print("\(out).key\n\(out).pub")
        }
    }

    struct GenerateEncryption: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-encryption",
            abstract: "Make a random AES-256 key file (base64) for `--encrypt-key-file`."
        )

        @Option(help: ArgumentHelp("Where to write the key.", valueName: "file"))
        var out = "keel-artifact.key"

        func run() async throws {
            if FileManager.default.fileExists(atPath: out) { throw ValidationError("\(out) exists; refusing to overwrite a key") }
            try AtomicFile.write(EncryptionKey.generateBase64() + "\n", to: out)
            chmod(out, 0o600)
            print(out)
        }
    }
}

extension APIKeyRole: ExpressibleByArgument {}
