import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry

/// A model ready to serve: the artefact, its identity, and what each request needs precomputed. Immutable,
/// so a request keeps using the instance it started with while a reload swaps in another.
final class LoadedModel: Sendable {
    let path: String
    let artifact: Artifact
    let name: String
    let version: String
    let decoder: RowDecoder
    /// What training saw of each feature, for the warnings each prediction carries.
    let expectations: InputExpectations
    let classes: [String]
    let isClassifier: Bool
    /// The schema's id column, whose value in a request keys the prediction log (for erasure).
    let idColumn: String?
    /// `{"name": …, "version": …}`, encoded once.
    let identityJSON: String
    /// `{"dropped": […], "pseudonymised": […], "generalised": {column: rule}}`: what the model's privacy rules
    /// do to a request's fields, said in every prediction and explanation; nil when the model has none.
    let privacyJSON: String?

    /// The SHA-256 of the whole file when it came from a registry (its content address), to notice changes.
    let checksumOfFile: String?
    /// The model's humility rules, checked against it; nil when it has none.
    let humility: HumilityGuard?
    /// Where training data was dense, for the rules (made once per model file, kept across rule changes).
    let density: TrainingDensity?

    /// `identity` overrides the name and version of the manifest (a registry's own name and version number).
    /// `rules` are the model's humility rules; rules that do not fit the model are the error.
    convenience init(path: String, options: Artifact.ReadOptions, limits: ServerLimits, identity: (name: String, version: String)? = nil,
                     checksumOfFile: String? = nil, rules: [HumilityRule] = []) throws {
        let artifact = try Artifact.read(from: path, options: options)
        let manifest = artifact.manifest
        var stem = (path as NSString).lastPathComponent
        if stem.hasSuffix(".keel") { stem.removeLast(5) }
        // The training density is made only for a model with rules (it sorts the profile's samples).
        try self.init(path: path, artifact: artifact, name: identity?.name ?? manifest.name ?? stem,
                      version: identity?.version ?? manifest.version ?? String(artifact.info.checksum.prefix(12)),
                      decoder: RowDecoder(schema: manifest.schema, limits: limits,
                                          privacy: try Self.privacy(manifest.schema, key: options.pseudonymKey, name: identity?.name ?? manifest.name ?? stem)),
                      expectations: InputExpectations(artifact.model),
                      checksumOfFile: checksumOfFile, density: nil, rules: rules)
    }

    private init(path: String, artifact: Artifact, name: String, version: String, decoder: RowDecoder, expectations: InputExpectations,
                 checksumOfFile: String?, density: TrainingDensity?, rules: [HumilityRule]) throws {
        self.path = path
        self.checksumOfFile = checksumOfFile
        self.artifact = artifact
        self.name = name
        self.version = version
        self.decoder = decoder
        self.expectations = expectations
        let density = density ?? (rules.isEmpty ? nil : TrainingDensity(artifact.model))
        self.density = density
        humility = rules.isEmpty ? nil : try HumilityGuard(model: artifact.model, rules: rules, density: density)
        let schema = artifact.manifest.schema
        classes = schema.task?.classes ?? []
        isClassifier = schema.task?.kind != .regression
        idColumn = schema.columns(withRole: .id).first?.name
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("name"); writer.string(name)
        writer.key("version"); writer.string(version)
        writer.endObject()
        identityJSON = writer.text
        privacyJSON = decoder.privacy.map { privacy in
            var writer = JSONWriter()
            writer.beginObject()
            let sorted = privacy.operations.sorted { $0.key < $1.key }
            for (name, test) in [("dropped", { (o: PrivacyGuard.Operation) in o == .drop }), ("pseudonymised", { $0 == .pseudonymise })] {
                writer.key(name)
                writer.beginArray()
                for (column, operation) in sorted where test(operation) { writer.string(column) }
                writer.endArray()
            }
            writer.key("generalised")
            writer.beginObject()
            for (column, operation) in sorted where operation != .drop && operation != .pseudonymise {
                writer.key(column); writer.string(schema.privacy?[column]?.description ?? "generalise")
            }
            writer.endObject()
            writer.endObject()
            return writer.text
        }
    }

    /// The model's privacy rules, applied to every request row before anything else reads it.
    static func privacy(_ schema: Schema, key: KeyedHasher?, name: String) throws -> PrivacyGuard? {
        do {
            let privacyGuard = try PrivacyGuard(schema: schema, pseudonymiser: key, keySource: "--pii-key-file FILE (pii_key_file in keel.yaml, or KEEL_PII_KEY)")
            return privacyGuard.isEmpty ? nil : privacyGuard
        } catch {
            throw DataError.invalidSchema("model \(name): \(error)")
        }
    }

    /// The same model under other humility rules (the file is not read again).
    func with(rules: [HumilityRule]) throws -> LoadedModel {
        try LoadedModel(path: path, artifact: artifact, name: name, version: version, decoder: decoder, expectations: expectations,
                        checksumOfFile: checksumOfFile, density: density, rules: rules)
    }

    /// `GET /v1/model`: the manifest (schema included), the identity and the container facts.
    func manifestJSON() throws -> String {
        struct Document: Encodable {
            var name: String
            var version: String
            var checksum: String
            var signer: String?
            var encrypted: Bool
            var manifest: ArtifactManifest
        }
        let info = artifact.info
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let document = Document(name: name, version: version, checksum: info.checksum, signer: info.signer, encrypted: info.encrypted, manifest: info.manifest)
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
