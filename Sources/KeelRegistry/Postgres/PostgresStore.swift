import Crypto
import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import PostgresNIO

/// The registry on PostgreSQL, for many users and many servers: the same records, decisions and audit chain
/// as a folder registry (`Registry`), with artefacts and snapshots stored in the database as checksummed
/// blobs so that every host sees them. Every audited change locks the chain's head row first: changes from
/// any number of processes take turns, so the chain stays linear, versions are numbered without gaps and two
/// promotions of one name never interleave. Changes that move a stage notify `keel_registry` on commit.
public final class PostgresStore: RegistryStore, Sendable {
    public let database: PostgresRegistryDatabase
    /// Where verified copies of artefacts are kept for loading (content-addressed).
    let cacheFolder: String

    public var location: String { database.location.redacted }

    public init(database: PostgresRegistryDatabase, cacheFolder: String? = nil) {
        self.database = database
        self.cacheFolder = cacheFolder ?? Self.defaultCacheFolder()
    }

    /// Connects to the registry at `url` (migrating it, or creating it when `create`).
    public static func open(_ url: String, create: Bool) async throws -> PostgresStore {
        let location = try PostgresLocation(url: url)
        return PostgresStore(database: try await PostgresRegistryDatabase.open(location, create: create))
    }

    /// `$KEEL_CACHE`, else `$XDG_CACHE_HOME/keel`, else `~/.cache/keel`; artefacts go under `artifacts/`.
    static func defaultCacheFolder() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["KEEL_CACHE"], !cache.isEmpty { return cache + "/artifacts" }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/keel/artifacts" }
        return NSHomeDirectory() + "/.cache/keel/artifacts"
    }

    // MARK: Training

    public func registerTraining(_ registration: TrainingRegistration, model: TrainedModel,
                                 artifact: (Int) throws -> [UInt8]) async throws -> (run: RunRecord, model: ModelVersion) {
        try RegistryRules.checkName(registration.name)
        // Snapshots are content-addressed: stored before the transaction, which stays short.
        let fingerprint = registration.dataset.fingerprint
        let datasetSnapshot = registration.snapshot ? try await storeSnapshot(registration.dataset, fingerprint: fingerprint) : nil
        var holdoutSnapshot: String?
        if let holdout = registration.holdout { holdoutSnapshot = try await storeSnapshot(holdout, fingerprint: holdout.fingerprint) }
        let overridesJSON = String(decoding: try JSONEncoder().encode(registration.overrides), as: UTF8.self)
        return try await database.audited { tx in
            try await upsertDataset(&tx, registration, fingerprint: fingerprint, snapshot: datasetSnapshot)
            let inserted = try await tx.rows("""
                INSERT INTO runs (name, dataset, settings_json, overrides_json, seed, keel_version, started_at, seconds, status,
                                  trial_count, report_json, holdout_snapshot, actor)
                VALUES (\(registration.name), \(fingerprint), \(registration.settingsJSON), \(overridesJSON), \(String(registration.seed)),
                        \(TrainedModel.keelVersion), \(registration.startedAt), \(registration.seconds), \(registration.status),
                        \(registration.trials.count), \(registration.reportJSON), \(holdoutSnapshot), \(registration.actor))
                RETURNING id
                """)
            let runID = try inserted[0]["id"].decode(Int.self)
            for trial in registration.trials {
                try await tx.execute("""
                    INSERT INTO trials (run, trial, family, summary, mean, std, fit_seconds, status, learner_json)
                    VALUES (\(runID), \(trial.trial), \(trial.family), \(trial.summary), \(Registry.finite(trial.mean)),
                            \(Registry.finite(trial.std)), \(trial.fitSeconds), \(trial.status), \(trial.learnerJSON))
                    """)
            }
            try await tx.append(actor: registration.actor, action: "run.train", subject: "run \(runID)",
                                details: RegistryRules.runDetails(registration, fingerprint: fingerprint))
            // The head lock is held: no other writer numbers a version of this name until the commit.
            let last = try await tx.rows("SELECT COALESCE(MAX(version), 0) AS v FROM models WHERE name = \(registration.name)")
            let version = try last[0]["v"].decode(Int.self) + 1
            let bytes = try artifact(version)
            let sha = Registry.sha256(bytes)
            try await database.insertBlob(tx.connection, sha + ".keel", kind: .artifact, bytes: bytes)
            let record = RegistryRules.newVersion(registration, model: model, version: version, artifact: sha, size: bytes.count,
                                                  run: runID, fingerprint: fingerprint)
            try await insertModel(&tx, record)
            try await recordStage(&tx, record.name, record.version, from: nil, to: .candidate, actor: registration.actor, reason: .registered, forced: false)
            try await tx.append(actor: registration.actor, action: "model.register", subject: record.reference,
                                details: RegistryRules.registrationDetails(record, artifact: sha, run: runID))
            try await notify(&tx, "model \(record.name)")
            let run = try await tx.rows("SELECT * FROM runs WHERE id = \(runID)")
            return (try Self.runRecord(run[0]), record)
        }
    }

    public func storeSnapshot(_ frame: Frame) async throws {
        _ = try await storeSnapshot(frame, fingerprint: frame.fingerprint)
    }

    func storeSnapshot(_ frame: Frame, fingerprint: String) async throws -> String {
        let name = "\(fingerprint).snap"
        let known = try await database.rows("SELECT 1 FROM blobs WHERE name = \(name)")
        if known.isEmpty { try await database.putBlob(name, kind: .snapshot, bytes: try FrameSnapshot.encode(frame, fingerprint: fingerprint)) }
        return name
    }

    public func loadSnapshot(_ file: String) async throws -> Frame {
        try FrameSnapshot.decode(try await database.blob(file), file: "\(file) in \(location)")
    }

    private func upsertDataset(_ tx: inout PostgresAuditedTransaction, _ registration: TrainingRegistration, fingerprint: String,
                               snapshot: String?) async throws {
        let existing = try await tx.rows("SELECT snapshot FROM datasets WHERE fingerprint = \(fingerprint)")
        if let row = existing.first {
            if try row["snapshot"].decode(String?.self) == nil, let snapshot {
                try await tx.execute("UPDATE datasets SET snapshot = \(snapshot) WHERE fingerprint = \(fingerprint)")
            }
            return
        }
        try await tx.execute("""
            INSERT INTO datasets (fingerprint, name, source, "rows", "columns", schema_json, profile_json, snapshot, created_at)
            VALUES (\(fingerprint), \(registration.name), \(registration.datasetSource), \(registration.dataset.rowCount),
                    \(registration.dataset.columnCount), \(registration.schemaJSON), \(registration.profileJSON), \(snapshot), \(Registry.timestamp()))
            """)
        try await tx.append(actor: registration.actor, action: "dataset.register", subject: fingerprint,
                            details: RegistryRules.datasetDetails(registration, snapshot: snapshot))
    }

    func insertModel(_ tx: inout PostgresAuditedTransaction, _ record: ModelVersion) async throws {
        try await tx.execute("""
            INSERT INTO models (name, version, artifact, size, task, model_kind, metric, cv_score, holdout_score, run, dataset,
                                created_at, created_by, stage)
            VALUES (\(record.name), \(record.version), \(record.artifact), \(record.size), \(record.task), \(record.modelKind), \(record.metric),
                    \(Registry.finite(record.crossValidatedScore)), \(Registry.finite(record.holdoutScore)), \(record.run), \(record.dataset),
                    \(record.createdAt), \(record.createdBy), \(record.stage.rawValue))
            """)
    }

    /// Tells servers following the registry (LISTEN keel_registry) what changed; delivered on commit.
    func notify(_ tx: inout PostgresAuditedTransaction, _ payload: String) async throws {
        try await tx.execute("SELECT pg_notify('keel_registry', \(payload))")
    }

    // MARK: Queries

    public func models(named name: String?) async throws -> [ModelVersion] {
        let rows = if let name {
            try await database.rows("SELECT * FROM models WHERE name = \(name) ORDER BY version DESC")
        } else {
            try await database.rows("SELECT * FROM models ORDER BY name, version DESC")
        }
        return try rows.map(Self.modelVersion)
    }

    public func resolve(_ reference: ModelReference) async throws -> ModelVersion {
        let versions = try await models(named: reference.name)
        let names = versions.isEmpty ? try await models(named: nil).map(\.name) : []
        return try RegistryRules.resolve(reference, among: versions, names: { names }, location: location)
    }

    /// A verified local copy of the version's artefact: kept in the cache by its checksum, fetched from the
    /// database (every chunk checked) when the cache lacks it or holds other bytes.
    public func artifactFile(_ version: ModelVersion) async throws -> String {
        let path = cacheFolder + "/\(version.artifact).keel"
        if let data = FileManager.default.contents(atPath: path), Registry.sha256(Array(data)) == version.artifact { return path }
        let bytes = try await database.blob(version.artifact + ".keel")
        guard Registry.sha256(bytes) == version.artifact else {
            throw RegistryError.invalid("the model file of \(version.reference) in \(location) is not the one registered (checksum differs)")
        }
        do {
            try FileManager.default.createDirectory(atPath: cacheFolder, withIntermediateDirectories: true)
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw RegistryError.store("cannot keep a copy of \(version.reference)'s model file in \(cacheFolder) (set KEEL_CACHE to a writable folder): \(error)")
        }
        return path
    }

    public func runs() async throws -> [RunRecord] {
        try await database.rows("SELECT * FROM runs ORDER BY id DESC").map(Self.runRecord)
    }

    public func run(_ id: Int) async throws -> RunRecord {
        guard let row = try await database.rows("SELECT * FROM runs WHERE id = \(id)").first else {
            throw RegistryError.notFound("no run \(id) in the registry at \(location)")
        }
        return try Self.runRecord(row)
    }

    public func trials(ofRun id: Int) async throws -> [TrialRecord] {
        try await database.rows("SELECT * FROM trials WHERE run = \(id) ORDER BY trial").map { row in
            TrialRecord(run: try row["run"].decode(Int.self), trial: try row["trial"].decode(Int.self), family: try row["family"].decode(String.self),
                        summary: try row["summary"].decode(String.self), mean: try row["mean"].decode(Double?.self) ?? .nan,
                        std: try row["std"].decode(Double?.self) ?? .nan, fitSeconds: try row["fit_seconds"].decode(Double.self),
                        status: try row["status"].decode(String.self), learnerJSON: try row["learner_json"].decode(String.self))
        }
    }

    public func datasets() async throws -> [DatasetRecord] {
        try await database.rows("SELECT * FROM datasets ORDER BY created_at DESC").map(Self.datasetRecord)
    }

    public func dataset(_ prefix: String) async throws -> DatasetRecord {
        let matches = try await database.rows("SELECT * FROM datasets WHERE starts_with(fingerprint, \(prefix)) ORDER BY created_at")
            .map(Self.datasetRecord)
        guard matches.count == 1 else {
            throw RegistryError.notFound(matches.isEmpty ? "no dataset with fingerprint \(prefix)" : "\(prefix) matches \(matches.count) datasets; give more of the fingerprint")
        }
        return matches[0]
    }

    static func modelVersion(_ row: PostgresRandomAccessRow) throws -> ModelVersion {
        ModelVersion(name: try row["name"].decode(String.self), version: try row["version"].decode(Int.self),
                     artifact: try row["artifact"].decode(String.self), size: try row["size"].decode(Int.self),
                     task: try row["task"].decode(String.self), modelKind: try row["model_kind"].decode(String.self),
                     metric: try row["metric"].decode(String.self), crossValidatedScore: try row["cv_score"].decode(Double?.self) ?? .nan,
                     holdoutScore: try row["holdout_score"].decode(Double?.self) ?? .nan, run: try row["run"].decode(Int?.self),
                     dataset: try row["dataset"].decode(String?.self), createdAt: try row["created_at"].decode(String.self),
                     createdBy: try row["created_by"].decode(String.self), stage: Stage(rawValue: try row["stage"].decode(String.self)) ?? .archived)
    }

    static func runRecord(_ row: PostgresRandomAccessRow) throws -> RunRecord {
        let overrides = (try? JSONDecoder().decode([String].self, from: Data(try row["overrides_json"].decode(String.self).utf8))) ?? []
        return RunRecord(id: try row["id"].decode(Int.self), name: try row["name"].decode(String.self), dataset: try row["dataset"].decode(String.self),
                         settingsJSON: try row["settings_json"].decode(String.self), overrides: overrides,
                         seed: UInt64(try row["seed"].decode(String.self)) ?? 0, keelVersion: try row["keel_version"].decode(String.self),
                         startedAt: try row["started_at"].decode(String.self), seconds: try row["seconds"].decode(Double.self),
                         status: try row["status"].decode(String.self), trialCount: try row["trial_count"].decode(Int.self),
                         reportJSON: try row["report_json"].decode(String.self), holdoutSnapshot: try row["holdout_snapshot"].decode(String?.self),
                         actor: try row["actor"].decode(String.self))
    }

    static func datasetRecord(_ row: PostgresRandomAccessRow) throws -> DatasetRecord {
        DatasetRecord(fingerprint: try row["fingerprint"].decode(String.self), name: try row["name"].decode(String.self),
                      source: try row["source"].decode(String.self), rows: try row["rows"].decode(Int.self), columns: try row["columns"].decode(Int.self),
                      schemaJSON: try row["schema_json"].decode(String.self), profileJSON: try row["profile_json"].decode(String.self),
                      snapshot: try row["snapshot"].decode(String?.self), createdAt: try row["created_at"].decode(String.self))
    }
}
