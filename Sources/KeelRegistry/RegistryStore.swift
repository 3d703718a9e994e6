import Foundation
import KeelArtifact
import KeelData
import KeelLearn

/// Everything Keel keeps about its models, behind one protocol so that a second backend (PostgreSQL, for
/// many machines) can stand beside the embedded SQLite one (`Registry`): datasets and their snapshots, runs
/// and trials, numbered versions and their stages, approvals, the tamper-evident audit log, the prediction
/// log with feedback, and garbage collection. Callers that need nothing backend-specific take
/// `some RegistryStore`.
public protocol RegistryStore: Sendable {
    /// Where the store lives, as a person would name it (a folder today; a database URL with a second backend).
    var location: String { get }

    // MARK: Training
    /// Records a finished search (dataset, run, trials, holdout) and stores its model as the next version.
    func registerTraining(_ registration: TrainingRegistration, model: TrainedModel,
                          artifact: (Int) throws -> [UInt8]) async throws -> (run: RunRecord, model: ModelVersion)
    /// Keeps a dataset's snapshot (content-addressed; a second store of the same data is free).
    func storeSnapshot(_ frame: Frame) async throws
    func loadSnapshot(_ file: String) async throws -> Frame
    func models(named name: String?) async throws -> [ModelVersion]
    func resolve(_ reference: ModelReference) async throws -> ModelVersion
    /// A local file holding a version's model, checked to be whole (the registry's own file, or a verified
    /// copy of a database's blob).
    func artifactFile(_ version: ModelVersion) async throws -> String
    func runs() async throws -> [RunRecord]
    func run(_ id: Int) async throws -> RunRecord
    func trials(ofRun id: Int) async throws -> [TrialRecord]
    func datasets() async throws -> [DatasetRecord]
    func dataset(_ prefix: String) async throws -> DatasetRecord
    /// The key a registry signs what it stores with, if it has one.
    func signingKey() async throws -> SigningKey?

    // MARK: Stages
    /// The version if it may move to `stage`; an error saying why not otherwise.
    func promotable(name: String, version: Int, to stage: Stage) async throws -> ModelVersion
    /// Moves a version, recording the gate verdicts the caller evaluated; failed gates block unless `force`.
    func promote(name: String, version: Int, to stage: Stage, actor: String, gates: [GateResult], force: Bool) async throws -> Promotion
    func rollback(name: String, actor: String) async throws -> (restored: ModelVersion, retired: ModelVersion)
    func approve(name: String, version: Int, actor: String, comment: String) async throws -> Approval
    func approvals(name: String, version: Int) async throws -> [Approval]
    func stageEvents(name: String) async throws -> [StageEvent]
    func history(name: String) async throws -> [StageTenure]

    // MARK: Audit
    @discardableResult
    func audit(actor: String, action: String, subject: String, details: [String: String]) async throws -> AuditEntry
    func noteConfiguration(path: String, content: [UInt8], actor: String) async throws
    func auditEntries() async throws -> [AuditEntry]
    func verifyAudit() async throws -> AuditVerification
    func writeCheckpoint(signingKey: SigningKey) async throws -> AuditCheckpoint

    // MARK: Prediction log and feedback
    func logPredictions(_ records: [PredictionRecord]) async throws
    /// Attaches a label to a logged prediction; false when no such prediction was logged.
    func recordFeedback(requestID: String, row: Int, label: String, time: Double) async throws -> Bool
    func predictionLog(model: String, since: Double) async throws -> [LoggedPrediction]
    func purgePredictions(subject: String, actor: String) async throws -> Int
    func expirePredictions(before: Double) async throws -> Int

    // MARK: Review queue
    /// Queues items synchronously in one transaction; returns their ids.
    func queueReview(_ items: [ReviewItem]) async throws -> [Int]
    /// Items least confident first; nil filters match everything.
    func reviewItems(model: String?, status: ReviewItem.Status?, limit: Int) async throws -> [ReviewItem]
    func reviewItem(_ id: Int) async throws -> ReviewItem?
    /// Records a decision, its feedback label (with its source) and its audit entry in one transaction;
    /// `conflict` when the item was decided already, `notFound` for an unknown id.
    func decideReview(id: Int, decision: ReviewItem.Decision, label: String?, comment: String, actor: String, time: Double) async throws -> ReviewItem

    // MARK: Transfer and housekeeping
    func exportBundle(_ reference: ModelReference, actor: String) async throws -> ModelBundle
    func importBundle(_ bundle: ModelBundle, actor: String, signingKey: SigningKey?) async throws -> ModelVersion
    func collectGarbage(dryRun: Bool, actor: String) async throws -> CollectedGarbage
}

/// The embedded backend: SQLite and files in one folder.
extension Registry: RegistryStore {
    public var location: String { folder }

    public func artifactFile(_ version: ModelVersion) -> String { artifactPath(version) }
}

extension RegistryStore {
    /// Every version of every model.
    public func allModels() async throws -> [ModelVersion] { try await models(named: nil) }

    public func decideReview(id: Int, decision: ReviewItem.Decision, label: String?, comment: String, actor: String) async throws -> ReviewItem {
        try await decideReview(id: id, decision: decision, label: label, comment: comment, actor: actor, time: Date().timeIntervalSince1970)
    }
}

/// Opens the store at a location, whichever backend it names: the one place that chooses, so commands and
/// the server take `any RegistryStore` and never a backend's type.
public enum RegistryStores {
    /// The store at `location`: a registry folder, or a PostgreSQL URL (`postgres://user@host:port/db?…`).
    /// Commands that only read pass `create: false`, so that a mistyped location is an error rather than a
    /// new empty registry.
    public static func open(_ location: String, create: Bool) async throws -> any RegistryStore {
        if isDatabase(location) { return try await PostgresStore.open(location, create: create) }
        return try Registry(folder: location, create: create)
    }

    /// The public key of the registry at `location`, nil when it has none: a folder's `signing.pub` (or the
    /// public half of `signing.key`), a database's stored key.
    public static func verifyKey(_ location: String) async throws -> VerifyKey? {
        guard isDatabase(location) else { return try Registry.verifyKey(folder: location) }
        let store = try await PostgresStore.open(location, create: false)
        do {
            let key = try await store.verifyKey()
            await store.database.close()
            return key
        } catch {
            await store.database.close()
            throw error
        }
    }

    /// Whether `location` names a database (a `postgres://` or `postgresql://` URL) rather than a folder.
    public static func isDatabase(_ location: String) -> Bool {
        guard let scheme = location.split(separator: ":", maxSplits: 1).first, location.contains("://") else { return false }
        return ["postgres", "postgresql"].contains(scheme.lowercased())
    }

    /// Whether a registry exists at `location` (commands that only read never create one): a folder with
    /// its database file, or a database URL (whose database is checked when it is opened).
    public static func exists(_ location: String) -> Bool {
        isDatabase(location) || Registry.exists(at: location)
    }
}
