import Foundation
import KeelData

/// What `keel train` ships, in three parts that change for different reasons: the `Predictor` that scores
/// rows, the `ModelProvenance` that says how it was made and how good it is, and the reference profile that
/// monitoring compares live data with. `KeelArtifact.Artifact` writes it to a file; here it is only the value.
public struct TrainedModel: Sendable {
    public static let keelVersion = "0.1.0"

    public var predictor: Predictor
    public var provenance: ModelProvenance
    /// The training data's distributions and the holdout's predictions, for drift monitoring and humility
    /// rules. Kept in the payload (encrypted with it), since it holds a sample of raw values. Nil in
    /// artefacts from before it existed.
    public var profile: ReferenceProfile?

    public init(predictor: Predictor, provenance: ModelProvenance, profile: ReferenceProfile? = nil) {
        self.predictor = predictor
        self.provenance = provenance
        self.profile = profile
    }

    /// The schema rows are checked against (the predictor's).
    public var schema: Schema { predictor.schema }
}

/// How a model was made and how good it is: nothing here changes a prediction.
public struct ModelProvenance: Codable, Sendable, Equatable {
    public var keelVersion: String
    public var createdAt: String
    public var metric: Metric
    /// The validation plan, as the report describes it.
    public var validation: String
    public var crossValidatedScore: Double
    public var holdoutScore: Double
    public var dataFingerprint: String
    public var seed: UInt64
    /// The configurations the search evaluated, in order: replaying them with the seed reproduces the run.
    public var trialSchedule: [Learner]
    /// True when `--refit-full` refitted the shipped model on all rows after the holdout was scored, so the
    /// holdout score describes the model before that refit.
    public var refittedOnAllRows: Bool

    public init(keelVersion: String = TrainedModel.keelVersion, createdAt: String, metric: Metric, validation: String,
                crossValidatedScore: Double, holdoutScore: Double, dataFingerprint: String, seed: UInt64, trialSchedule: [Learner],
                refittedOnAllRows: Bool = false) {
        self.keelVersion = keelVersion
        self.createdAt = createdAt
        self.metric = metric
        self.validation = validation
        self.crossValidatedScore = crossValidatedScore
        self.holdoutScore = holdoutScore
        self.dataFingerprint = dataFingerprint
        self.seed = seed
        self.trialSchedule = trialSchedule
        self.refittedOnAllRows = refittedOnAllRows
    }
}
