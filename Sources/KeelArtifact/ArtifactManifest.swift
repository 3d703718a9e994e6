import KeelData
import KeelLearn

/// The readable part of an artefact: what the model is, how good, how it was made. `keel model info` and the
/// server's `GET /v1/model` show it without decrypting the payload.
public struct ArtifactManifest: Codable, Sendable, Equatable {
    /// The artefact format the file was read from (1: the early text format, 2: the binary container, 3: the
    /// same container with the model's parts apart in the payload).
    public var formatVersion: Int
    public var keelVersion: String
    public var createdAt: String
    /// The model's name and version, set when a registry stores it; the server falls back to the file's stem
    /// and the payload's checksum prefix.
    public var name: String?
    public var version: String?
    public var schema: Schema
    public var modelKind: String
    public var metric: String
    public var validation: String
    public var crossValidatedScore: Double
    public var holdoutScore: Double
    public var refittedOnAllRows: Bool
    public var dataFingerprint: String
    public var seed: UInt64
    /// How many configurations the search evaluated; the payload holds the whole schedule.
    public var trialCount: Int
    public var textColumns: [String]
    public var payload: PayloadInfo
    /// Per-feature missing rates of the training data: a summary of the model's reference profile (the full
    /// profile, with a sample of raw values, is in the payload, encrypted with it).
    public var referenceProfile: [String: ReferenceColumn]?

    public struct PayloadInfo: Codable, Sendable, Equatable {
        /// SHA-256 (hex) of the plaintext payload, so a decrypted payload is checked too.
        public var sha256: String
        public var bytes: Int
        public var encoding: String
        /// "AES-256-GCM" when the payload is encrypted, absent otherwise.
        public var encryption: String?
    }

    /// The summary of one feature's reference, as the manifest shows it.
    public struct ReferenceColumn: Codable, Sendable, Equatable {
        public var missingRate: Double
    }

    /// The manifest describing `model` with the given payload facts.
    public init(model: TrainedModel, formatVersion: Int, payload: PayloadInfo, name: String? = nil, version: String? = nil) {
        self.formatVersion = formatVersion
        let provenance = model.provenance
        keelVersion = provenance.keelVersion
        createdAt = provenance.createdAt
        self.name = name
        self.version = version
        schema = model.predictor.schema
        modelKind = model.predictor.model.kindName
        metric = provenance.metric.rawValue
        validation = provenance.validation
        crossValidatedScore = provenance.crossValidatedScore
        holdoutScore = provenance.holdoutScore
        refittedOnAllRows = provenance.refittedOnAllRows
        dataFingerprint = provenance.dataFingerprint
        seed = provenance.seed
        trialCount = provenance.trialSchedule.count
        textColumns = schema.textColumns ?? []
        self.payload = payload
        // Only missing rates: the manifest is readable without the key, the full profile holds raw values.
        referenceProfile = model.profile.map { profile in
            Dictionary(profile.columns.map { ($0.name, ReferenceColumn(missingRate: $0.missingRate)) }, uniquingKeysWith: { first, _ in first })
        }
    }
}
