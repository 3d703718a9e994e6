import ArgumentParser
import Foundation
import KeelArtifact
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

        @Option(help: ArgumentHelp("Keep the keys in this registry on PostgreSQL (postgres://…; default: $KEEL_HOME when it is such a URL), where every server following it reads them.", valueName: "url"))
        var registry: String?

        var path: String { keysFile ?? APIKeyStore.defaultPath() }

        /// The registry database that holds the keys, when the keys live in one.
        var database: String? {
            if let registry { return registry }
            guard keysFile == nil, let home = ProcessInfo.processInfo.environment["KEEL_HOME"], RegistryStores.isDatabase(home) else { return nil }
            return home
        }

        func validate() throws {
            if let registry, !RegistryStores.isDatabase(registry) {
                throw ValidationError("--registry takes a postgres:// URL here; a registry folder keeps its keys in --keys-file (its api-keys.json)")
            }
            if registry != nil && keysFile != nil { throw ValidationError("--registry and --keys-file are exclusive") }
        }

        func openDatabase() async throws -> PostgresStore? {
            guard let database else { return nil }
            return try await RegistryStores.open(database, create: true) as? PostgresStore
        }

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
            discussion: "The predict role may call predict, explain and feedback; metrics may read /metrics only (for a Prometheus scraper, when server.metrics_auth is key); admin may call everything. Any key may read /openapi.json and /docs."
        )

        @Option(help: "predict, metrics, reviewer (lists and decides the review queue only) or admin.")
        var role: APIKeyRole

        @Option(help: "A label for the key (who or what uses it).")
        var name = "default"

        @OptionGroup var store: StoreOption

        func run() async throws {
            if let database = try await store.openDatabase() {
                let (record, secret) = APIKeyStore.issue(role: role, name: name)
                try await database.addAPIKey(record, actor: Registry.currentUser)
                Terminal.progress("created \(record.role.rawValue) key \(record.id) ('\(record.name)') in \(database.location); the secret below is shown only now")
                return print(secret)
            }
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
            let keys = try await store.openDatabase()?.apiKeyStore() ?? APIKeyStore(path: store.path)
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
            if let database = try await store.openDatabase() {
                guard try await database.revokeAPIKey(id: id, actor: Registry.currentUser) else {
                    throw ValidationError("no API key with id '\(id)' in \(database.location)")
                }
                return Terminal.progress("revoked key \(id); servers following the registry stop accepting it at once")
            }
            var keys = try APIKeyStore(path: store.path)
            guard try keys.revoke(id: id) else { throw ValidationError("no API key with id '\(id)' in \(store.path)") }
            try store.audit("key.revoke", subject: id, details: [:])
            Terminal.progress("revoked key \(id)")
        }
    }

    struct GenerateSigning: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-signing",
            abstract: "Make an Ed25519 key pair: PREFIX.key signs (`train --sign-key-file`), PREFIX.pub verifies (`--verify-key-file`).",
            discussion: """
            With --registry [FOLDER] (default: $KEEL_HOME, else ./.keel) the pair is the registry's own: signing.key \
            (mode 0600) and signing.pub in its folder. From then on every model stored in the registry (keel train, \
            keel retrain, keel models import) is signed with it, and `keel serve --registry` verifies production models \
            against signing.pub: models registered before are unsigned and refused until retrained (or served with \
            --allow-unsigned). An existing key is replaced only with --force, and models signed by the old key then \
            fail verification, even with --allow-unsigned, until they are retrained.
            """
        )

        @Option(help: ArgumentHelp("Path prefix of the two files (default keel-signing).", valueName: "prefix"))
        var out: String?

        @Flag(help: "Make the registry's signing key, kept in its folder.")
        var registry = false

        @Argument(help: ArgumentHelp("With --registry: the registry folder (default: $KEEL_HOME, else ./.keel).", valueName: "folder"))
        var folder: String?

        @Flag(help: "Replace an existing key: what the old key signed no longer verifies.")
        var force = false

        func validate() throws {
            if folder != nil && !registry { throw ValidationError("a folder goes with --registry (or give --out PREFIX for a key pair of your own)") }
            if registry && out != nil { throw ValidationError("--registry and --out are exclusive: a registry keeps its key pair in its folder") }
        }

        func run() async throws {
            let location = Registry.folder(explicit: folder)
            if registry, RegistryStores.isDatabase(location) { return try await generateForDatabase(location) }
            if registry { return try generateForRegistry(location) }
            let prefix = out ?? "keel-signing"
            let (key, pub) = ("\(prefix).key", "\(prefix).pub")
            if !force, let existing = [key, pub].first(where: FileManager.default.fileExists(atPath:)) {
                throw ValidationError("\(existing) exists; refusing to overwrite a key (--force replaces it)")
            }
            try KeysCommand.writeKeyPair(SigningKey.generate(), key: key, pub: pub)
            print("\(key)\n\(pub)")
        }

        /// A registry on PostgreSQL keeps its pair in its settings; the public half is printed, to pin with
        /// `keel serve --verify-key-file` where the database's writers are not trusted to sign.
        private func generateForDatabase(_ url: String) async throws {
            guard let store = try await RegistryStores.open(url, create: true) as? PostgresStore else { return }
            let previous = try await store.signingKey()
            if previous != nil && !force {
                throw RegistryError.invalid("the registry at \(store.location) already has a signing key; refusing to replace it. --force replaces it, "
                    + "and every model signed by the old key then fails verification until it is retrained")
            }
            let key = SigningKey.generate()
            try await store.setSigningKey(key, actor: Registry.currentUser, previous: previous?.verifyKey)
            print(key.verifyKey.base64)
            Terminal.progress("\(previous == nil ? "created" : "replaced") the signing key of the registry at \(store.location), kept in its database: "
                + "it signs every model registered from now on, and `keel serve --registry` verifies production models against its public half "
                + "(printed above). Whoever can write the database can also sign: pin the public key with --verify-key-file to guard against that")
        }

        private func generateForRegistry(_ folder: String) throws {
            let store = try Registry(folder: folder, create: true)
            let previous = try? Registry.verifyKey(folder: folder)
            let existing = [store.signingKeyPath, store.verifyKeyPath].filter(FileManager.default.fileExists(atPath:))
            if !existing.isEmpty && !force {
                throw RegistryError.invalid("""
                    the registry at \(folder) already has a signing key (\(existing.joined(separator: ", "))); refusing to replace it. \
                    --force replaces it, and every model signed by the old key then fails verification: `keel serve --registry` \
                    refuses it, even with --allow-unsigned, until it is retrained
                    """)
            }
            let key = SigningKey.generate()
            try KeysCommand.writeKeyPair(key, key: store.signingKeyPath, pub: store.verifyKeyPath)
            try store.audit(actor: Registry.currentUser, action: existing.isEmpty ? "signing-key.create" : "signing-key.replace", subject: folder,
                            details: ["public_key": key.verifyKey.base64, "previous_public_key": previous?.base64 ?? ""])
            print("\(store.signingKeyPath)\n\(store.verifyKeyPath)")
            Terminal.progress("""
                \(existing.isEmpty ? "created" : "replaced") the signing key of the registry at \(folder): \(store.signingKeyPath) (private, \
                mode 0600: keep it so) signs every model registered from now on (keel train, keel retrain, keel models import); \
                `keel serve --registry` verifies production models against \(store.verifyKeyPath)
                """)
            let unverified = try store.models().filter { $0.stage == .production }.filter { version in
                (try? Artifact.inspect(store.artifactFile(version), options: Artifact.ReadOptions(verifyKey: key.verifyKey))) == nil
            }
            if !unverified.isEmpty {
                Terminal.progress("""
                    not signed by this key: \(unverified.map { "\($0.reference) (production)" }.joined(separator: ", ")); \
                    `keel serve --registry` refuses \(unverified.count == 1 ? "it" : "them") until a version signed by this key \
                    is promoted (retrain); --allow-unsigned serves unsigned models meanwhile, never ones signed by another key
                    """)
            }
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
            try KeysCommand.writePrivate(EncryptionKey.generateBase64() + "\n", to: out)
            print(out)
        }
    }

    /// The private key first, then its public half; each file appears whole (`AtomicFile`).
    static func writeKeyPair(_ key: SigningKey, key keyPath: String, pub pubPath: String) throws {
        try writePrivate(key.base64 + "\n", to: keyPath)
        try AtomicFile.write(key.verifyKey.base64 + "\n", to: pubPath)
    }

    /// A secret written atomically with mode 0600 from its first byte: the temporary file is created under
    /// umask 077 (a chmod after the rename would leave a moment in which others could open it).
    static func writePrivate(_ text: String, to path: String) throws {
        let previous = umask(0o077)
        defer { umask(previous) }
        try AtomicFile.write(text, to: path)
        chmod(path, 0o600)
    }
}

extension APIKeyRole: ExpressibleByArgument {}
