import Foundation
import KeelArtifact
import KeelLearn
import KeelRegistry
import Logging
import Synchronization

/// The models currently served, by name, and the API keys in force. A swap replaces a reference atomically:
/// requests that already took the old model finish on it, new ones get the new one.
///
/// A server runs from one model file, or from a registry, serving the production version of every model
/// name and following promotions and rollbacks (`sync`).
final class ModelSlot: Sendable {
    enum Source: Sendable {
        case file
        case registry(any RegistryStore)
    }

    private struct State {
        var models: [String: LoadedModel]
        /// Registry mode with shadowing: the staging version of a name, scoring the same requests unseen.
        var shadows: [String: LoadedModel] = [:]
        var keys: APIKeyStore?
        /// Versions (name and artefact checksum) a follow-up sync refused and said so once.
        var refused: Set<String> = []
        /// The humility rules in force and the fingerprint of the source they were read from.
        var rules = HumilitySource.Table()
        var rulesFingerprint: [UInt8]?
        /// A source fingerprint whose rules were refused and said so once.
        var refusedRules: [UInt8]?
    }

    private let state: Mutex<State>
    let source: Source

    /// The registry followed, if any.
    var registry: (any RegistryStore)? {
        if case .registry(let registry) = source { return registry }
        return nil
    }
    let readOptions: Artifact.ReadOptions
    let limits: ServerLimits
    let keysPath: String?

    /// Whether the API keys are the followed registry's (PostgreSQL), read again at every sync.
    let keysFromRegistry: Bool

    /// Whether staging versions shadow the production ones (registry mode).
    let shadowing: Bool
    /// Where the humility rules come from (nil: none).
    let humility: HumilitySource?

    /// `rules` were read from `humility` before the models were loaded with them (`readRules`).
    init(models: [LoadedModel], source: Source, keys: APIKeyStore?, readOptions: Artifact.ReadOptions, limits: ServerLimits, keysPath: String?,
         keysFromRegistry: Bool = false, shadowing: Bool = false, humility: HumilitySource? = nil,
         rules: (table: HumilitySource.Table, fingerprint: [UInt8]?)? = nil) {
        self.keysFromRegistry = keysFromRegistry
        self.shadowing = shadowing
        self.humility = humility
        var initial = State(models: Dictionary(models.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }), keys: keys)
        if let rules { (initial.rules, initial.rulesFingerprint) = (rules.table, rules.fingerprint) }
        state = Mutex(initial)
        self.source = source
        self.readOptions = readOptions
        self.limits = limits
        self.keysPath = keysPath
        noteVerification()
    }

    var models: [String: LoadedModel] { state.withLock { $0.models } }

    /// The rules in force for a model name.
    func rules(for name: String) -> [HumilityRule] { state.withLock { $0.rules.rules(for: name) } }

    /// Reads the rules from `source`; an error names the source and says the rules in force stay.
    static func readRules(_ source: HumilitySource?) throws -> (table: HumilitySource.Table, fingerprint: [UInt8]?) {
        guard let source else { return (HumilitySource.Table(), nil) }
        let fingerprint = source.fingerprint()
        do {
            return (try source.read(), fingerprint)
        } catch {
            throw APIError(.unprocessableContent, "reload_failed", "the humility rules in \(source.origin) could not be read: \(error)")
        }
    }

    /// The served models under `table`'s rules, all or none: a rule that does not fit one model is the error.
    private func rebuilt(_ models: [String: LoadedModel], under table: HumilitySource.Table) throws -> [String: LoadedModel] {
        var result: [String: LoadedModel] = [:]
        for (name, model) in models {
            do {
                result[name] = try model.with(rules: table.rules(for: name))
            } catch let error as HumilityError {
                throw APIError(.unprocessableContent, "reload_failed", "the humility rules in \(humility?.origin ?? "the settings") do not fit \(name): \(error)")
            }
        }
        return result
    }

    /// Registry mode, at every poll: when the rules' source changed, reads it and swaps every served model
    /// onto the new rules; a source that does not parse or fit keeps the rules in force and is logged once.
    func refreshRules() {
        guard let humility, let fingerprint = humility.fingerprint(), state.withLock({ $0.rulesFingerprint != fingerprint }) else { return }
        do {
            let (table, _) = try Self.readRules(humility)
            let swapped = try rebuilt(models, under: table)
            state.withLock { state in
                for (name, model) in swapped where state.models[name] != nil { state.models[name] = model }
                (state.rules, state.rulesFingerprint, state.refusedRules) = (table, fingerprint, nil)
            }
            Self.rulesLog.info("humility rules reloaded", metadata: ["source": .string(humility.origin),
                                                                     "models": .string(swapped.keys.sorted().joined(separator: ","))])
        } catch {
            if state.withLock({ state in
                defer { state.refusedRules = fingerprint }
                return state.refusedRules != fingerprint
            }) {
                let message = (error as? APIError)?.message ?? String(describing: error)
                Self.rulesLog.error("humility rules not reloaded; the previous rules stay in force", metadata: ["error": .string(message)])
            }
        }
    }

    private static let rulesLog = Logger(label: "keel.server")
    var keys: APIKeyStore? { state.withLock { $0.keys } }

    func shadow(of name: String) -> LoadedModel? { state.withLock { $0.shadows[name] } }

    /// The model `/v1/predict` answers with: the only one served. (On the hot path: one lock, no copy.)
    func primary() throws -> LoadedModel {
        if let only = state.withLock({ $0.models.count == 1 ? $0.models.first?.value : nil }) { return only }
        let models = self.models
        guard models.count == 1, let only = models.values.first else {
            throw APIError(.notFound, "model_not_found", models.isEmpty
                ? "no model is in production in the registry yet"
                : "this server serves several models: use /v1/models/{name}/predict with one of \(models.keys.sorted().joined(separator: ", "))")
        }
        return only
    }

    func model(named name: String) throws -> LoadedModel {
        guard let model = models[name] else {
            // The served names are not listed: GET /v1/models (admin) lists them.
            throw APIError(.notFound, "model_not_found", "no model named '\(APIError.truncated(name))' is served", field: "name")
        }
        return model
    }

    /// File mode: loads the model at `path` (default: the current file) and the keys file, then swaps both
    /// in. Registry mode: reads the registry's production versions now. On any error nothing changes.
    func reload(path: String? = nil) async throws -> [(old: LoadedModel?, new: LoadedModel?)] {
        switch source {
        case .registry:
            guard path == nil else {
                throw APIError(.unprocessableContent, "invalid_body", "a server following a registry loads production versions; promote instead of naming a file", field: "model")
            }
            // Keys from the registry are read by the sync below, never dropped in between.
            let keys = try keysPath.map(APIKeyStore.init(path:))
            // The rules are read again first: if they do not parse or fit, nothing changes.
            let rules = try Self.readRules(humility)
            let swapped = try rebuilt(models, under: rules.table)
            state.withLock { state in
                if !keysFromRegistry { state.keys = keys }
                for (name, model) in swapped where state.models[name] != nil { state.models[name] = model }
                (state.rules, state.rulesFingerprint, state.refusedRules) = (rules.table, rules.fingerprint, nil)
            }
            return try await sync()
        case .file:
            if let path {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                    throw APIError(.notFound, "model_file_not_found", "there is no file at '\(APIError.truncated(path))' on the server; the current model stays in service",
                                   field: "model")
                }
            }
            let current = try primary()
            let rules = try Self.readRules(humility)
            let loaded = try LoadedModel(path: path ?? current.path, options: readOptions, limits: limits)
            let fresh = try rebuilt([loaded.name: loaded], under: rules.table)[loaded.name]!
            let keys = try keysPath.map(APIKeyStore.init(path:))
            let old = state.withLock { state in
                let old = state.models.values.first
                state = State(models: [fresh.name: fresh], keys: keys, rules: rules.table, rulesFingerprint: rules.fingerprint)
                return old
            }
            noteSignature(of: fresh)
            return [(old, fresh)]
        }
    }

    /// Registry mode: loads every production version that differs from the one served (by artefact
    /// checksum) and swaps it in; drops names with no production version. Returns what changed.
    @discardableResult
    /// `strict` (at start, and on an admin's reload): the first version that cannot be loaded is the error.
    /// Otherwise (following the registry) each refused version is logged once and the others still swap in:
    /// one bad promotion holds back nothing else, and does not fill the log at every poll.
    func sync(strict: Bool = true) async throws -> [(old: LoadedModel?, new: LoadedModel?)] {
        guard case .registry(let registry) = source else { return [] }
        if !strict {
            // A rules source that cannot be fetched now keeps the rules in force (refreshRules says so when they differ).
            try? await humility?.refresh?()
            refreshRules()
        }
        if keysFromRegistry, let database = registry as? PostgresStore {
            let keys = try await database.apiKeyStore()
            let hadKeys = state.withLock { state in
                defer { state.keys = keys }
                return !(state.keys?.isEmpty ?? true)
            }
            if hadKeys && keys.isEmpty {
                Self.syncLog.warning("the last API key in the registry was revoked: every endpoint is open until one is created (keel keys create --registry URL)")
            }
        }
        let versions = try await registry.allModels()
        if shadowing { try await syncShadows(versions.filter { $0.stage == .staging }, registry: registry) }
        let production = versions.filter { $0.stage == .production }
        let served = models
        var fresh: [String: LoadedModel] = [:]
        for version in production where served[version.name]?.checksumOfFile != version.artifact {
            do {
                fresh[version.name] = try await load(version, from: registry)
            } catch {
                if strict { throw error }
                let key = version.name + "@" + version.artifact
                if state.withLock({ $0.refused.insert(key).inserted }) {
                    Self.syncLog.error("could not load a production version; still serving the previous one", metadata: [
                        "model": .string(version.name), "version": .string(String(version.version)), "error": .string(String(describing: error)),
                    ])
                }
            }
        }
        let gone = Set(served.keys).subtracting(production.map(\.name))
        guard !fresh.isEmpty || !gone.isEmpty else { return [] }
        return state.withLock { state in
            var changes: [(old: LoadedModel?, new: LoadedModel?)] = []
            for (name, model) in fresh.sorted(by: { $0.key < $1.key }) {
                changes.append((state.models[name], model))
                state.models[name] = model
            }
            for name in gone.sorted() {
                changes.append((state.models.removeValue(forKey: name), nil))
            }
            return changes
        }
    }

    private static let syncLog = Logger(label: "keel.server")

    private func syncShadows(_ staging: [ModelVersion], registry: any RegistryStore) async throws {
        let current = state.withLock { $0.shadows }
        var next: [String: LoadedModel] = [:]
        for version in staging {
            if let loaded = current[version.name], loaded.checksumOfFile == version.artifact {
                next[version.name] = loaded
            } else {
                next[version.name] = try await load(version, from: registry)
            }
        }
        state.withLock { $0.shadows = next }
    }
}
