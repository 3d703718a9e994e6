import Foundation
import GRDB
import KeelData
import KeelLearn

/// What a training run hands the registry: the data, the run's settings and trials, the holdout rows and a
/// way to write the artefact once its version number is known.
public struct TrainingRegistration {
    public var name: String
    public var dataset: Frame
    public var datasetSource: String
    public var schemaJSON: String
    public var profileJSON: String
    /// Keep a typed, compressed copy of the data (needed by `runs reproduce`).
    public var snapshot: Bool
    public var settingsJSON: String
    public var overrides: [String]
    public var seed: UInt64
    public var startedAt: String
    public var seconds: Double
    public var status: String
    public var reportJSON: String
    public var trials: [TrialRecord]
    public var holdout: Frame?
    public var actor: String

    public init(name: String, dataset: Frame, datasetSource: String, schemaJSON: String, profileJSON: String, snapshot: Bool,
                settingsJSON: String, overrides: [String], seed: UInt64, startedAt: String, seconds: Double, status: String,
                reportJSON: String, trials: [TrialRecord], holdout: Frame?, actor: String) {
        (self.name, self.dataset, self.datasetSource, self.schemaJSON, self.profileJSON) = (name, dataset, datasetSource, schemaJSON, profileJSON)
        (self.snapshot, self.settingsJSON, self.overrides, self.seed, self.startedAt) = (snapshot, settingsJSON, overrides, seed, startedAt)
        (self.seconds, self.status, self.reportJSON, self.trials, self.holdout, self.actor) = (seconds, status, reportJSON, trials, holdout, actor)
    }
}

extension Registry {
    /// Registers the dataset (once per fingerprint), the run with its trials, and the model as the next
    /// version of `name` in stage candidate. `artifact` is called with that version number and returns the
    /// artefact's bytes, which are stored under their SHA-256.
    public func registerTraining(_ registration: TrainingRegistration, model: TrainedModel,
                                 artifact: (Int) throws -> [UInt8]) throws -> (run: RunRecord, model: ModelVersion) {
        try RegistryRules.checkName(registration.name)
        // Snapshots are content-addressed, so writing them before the transaction is safe and keeps it short.
        let fingerprint = registration.dataset.fingerprint
        let datasetSnapshot = registration.snapshot ? try storeSnapshot(registration.dataset, fingerprint: fingerprint) : nil
        let holdoutSnapshot = try registration.holdout.map { try storeSnapshot($0, fingerprint: $0.fingerprint) }
        return try write { db in
            try upsertDataset(db, registration, fingerprint: fingerprint, snapshot: datasetSnapshot)
            let overridesJSON = String(decoding: try JSONEncoder().encode(registration.overrides), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO runs (name, dataset, settings_json, overrides_json, seed, keel_version, started_at, seconds, status,
                                  trial_count, report_json, holdout_snapshot, actor)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [registration.name, fingerprint, registration.settingsJSON, overridesJSON, String(registration.seed),
                                 TrainedModel.keelVersion, registration.startedAt, registration.seconds, registration.status,
                                 registration.trials.count, registration.reportJSON, holdoutSnapshot, registration.actor])
            let runID = Int(db.lastInsertedRowID)
            for trial in registration.trials {
                try db.execute(sql: """
                    INSERT INTO trials (run, trial, family, summary, mean, std, fit_seconds, status, learner_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [runID, trial.trial, trial.family, trial.summary, Registry.finite(trial.mean),
                                     Registry.finite(trial.std), trial.fitSeconds, trial.status, trial.learnerJSON])
            }
            try AuditLog.append(db, actor: registration.actor, action: "run.train", subject: "run \(runID)",
                                details: RegistryRules.runDetails(registration, fingerprint: fingerprint))
            let version = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM models WHERE name = ?", arguments: [registration.name]) ?? 0) + 1
            let bytes = try artifact(version)
            let sha = Registry.sha256(bytes)
            let path = artifactsFolder + "/\(sha).keel"
            if !FileManager.default.fileExists(atPath: path) { try AtomicFile.write(bytes, to: path) }
            let record = RegistryRules.newVersion(registration, model: model, version: version, artifact: sha, size: bytes.count,
                                                  run: runID, fingerprint: fingerprint)
            try insertModel(db, record)
            try recordStage(db, record.name, record.version, from: nil, to: .candidate, actor: registration.actor, reason: .registered, forced: false)
            try AuditLog.append(db, actor: registration.actor, action: "model.register", subject: record.reference,
                                details: RegistryRules.registrationDetails(record, artifact: sha, run: runID))
            return (try fetchRun(db, runID), record)
        }
    }

    /// Stores a snapshot of `frame` (content-addressed: a second call costs nothing), so that a caller can
    /// write it before a timed search instead of after it; `registerTraining` then finds it in place.
    public func storeSnapshot(_ frame: Frame) throws {
        _ = try storeSnapshot(frame, fingerprint: frame.fingerprint)
    }

    func storeSnapshot(_ frame: Frame, fingerprint: String) throws -> String {
        let file = "\(fingerprint).snap"
        let path = snapshotsFolder + "/" + file
        if !FileManager.default.fileExists(atPath: path) { try FrameSnapshot.write(frame, to: path) }
        return file
    }

    private func upsertDataset(_ db: Database, _ registration: TrainingRegistration, fingerprint: String, snapshot: String?) throws {
        if let existing = try Row.fetchOne(db, sql: "SELECT snapshot FROM datasets WHERE fingerprint = ?", arguments: [fingerprint]) {
            if (existing["snapshot"] as String?) == nil, let snapshot {
                try db.execute(sql: "UPDATE datasets SET snapshot = ? WHERE fingerprint = ?", arguments: [snapshot, fingerprint])
            }
            return
        }
        try db.execute(sql: """
            INSERT INTO datasets (fingerprint, name, source, rows, columns, schema_json, profile_json, snapshot, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [fingerprint, registration.name, registration.datasetSource, registration.dataset.rowCount,
                             registration.dataset.columnCount, registration.schemaJSON, registration.profileJSON, snapshot, Registry.timestamp()])
        try AuditLog.append(db, actor: registration.actor, action: "dataset.register", subject: fingerprint,
                            details: RegistryRules.datasetDetails(registration, snapshot: snapshot))
    }

    func insertModel(_ db: Database, _ record: ModelVersion) throws {
        try db.execute(sql: """
            INSERT INTO models (name, version, artifact, size, task, model_kind, metric, cv_score, holdout_score, run, dataset,
                                created_at, created_by, stage)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [record.name, record.version, record.artifact, record.size, record.task, record.modelKind, record.metric,
                             Registry.finite(record.crossValidatedScore), Registry.finite(record.holdoutScore), record.run, record.dataset, record.createdAt,
                             record.createdBy, record.stage.rawValue])
    }

    // MARK: Queries

    /// Every version of `name` (or of every model), newest first within a name.
    public func models(named name: String? = nil) throws -> [ModelVersion] {
        try read { db in
            let rows = if let name {
                try Row.fetchAll(db, sql: "SELECT * FROM models WHERE name = ? ORDER BY version DESC", arguments: [name])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM models ORDER BY name, version DESC")
            }
            return rows.map(Registry.modelVersion)
        }
    }

    /// The version a reference names. `NAME` alone means the production version, else the newest.
    public func resolve(_ reference: ModelReference) throws -> ModelVersion {
        try RegistryRules.resolve(reference, among: try models(named: reference.name), names: { try models().map(\.name) }, location: folder)
    }

    public func artifactPath(_ version: ModelVersion) -> String {
        artifactsFolder + "/\(version.artifact).keel"
    }

    public func runs() throws -> [RunRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id DESC").map(Registry.runRecord) }
    }

    public func run(_ id: Int) throws -> RunRecord {
        try read { db in try fetchRun(db, id) }
    }

    public func trials(ofRun id: Int) throws -> [TrialRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM trials WHERE run = ? ORDER BY trial", arguments: [id]).map { row in
                TrialRecord(run: row["run"], trial: row["trial"], family: row["family"], summary: row["summary"], mean: row["mean"] ?? .nan,
                            std: row["std"] ?? .nan, fitSeconds: row["fit_seconds"], status: row["status"], learnerJSON: row["learner_json"])
            }
        }
    }

    public func datasets() throws -> [DatasetRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM datasets ORDER BY created_at DESC").map(Registry.datasetRecord) }
    }

    /// The dataset whose fingerprint is `prefix` or starts with it (as `git` takes short hashes).
    public func dataset(_ prefix: String) throws -> DatasetRecord {
        let matches = try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM datasets WHERE fingerprint LIKE ? ORDER BY created_at", arguments: [prefix + "%"])
                .map(Registry.datasetRecord)
        }
        guard matches.count == 1 else {
            throw RegistryError.notFound(matches.isEmpty ? "no dataset with fingerprint \(prefix)" : "\(prefix) matches \(matches.count) datasets; give more of the fingerprint")
        }
        return matches[0]
    }

    /// The data of a snapshot file name, verified against its fingerprint.
    public func loadSnapshot(_ file: String) throws -> Frame {
        try FrameSnapshot.read(from: snapshotsFolder + "/" + file)
    }

    func fetchRun(_ db: Database, _ id: Int) throws -> RunRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
            throw RegistryError.notFound("no run \(id) in the registry at \(folder)")
        }
        return Registry.runRecord(row)
    }

    static func modelVersion(_ row: Row) -> ModelVersion {
        ModelVersion(name: row["name"], version: row["version"], artifact: row["artifact"], size: row["size"], task: row["task"],
                     modelKind: row["model_kind"], metric: row["metric"], crossValidatedScore: row["cv_score"] ?? .nan,
                     holdoutScore: row["holdout_score"] ?? .nan, run: row["run"], dataset: row["dataset"], createdAt: row["created_at"],
                     createdBy: row["created_by"], stage: Stage(rawValue: row["stage"]) ?? .archived)
    }

    static func runRecord(_ row: Row) -> RunRecord {
        let overrides = (try? JSONDecoder().decode([String].self, from: Data((row["overrides_json"] as String).utf8))) ?? []
        return RunRecord(id: row["id"], name: row["name"], dataset: row["dataset"], settingsJSON: row["settings_json"], overrides: overrides,
                         seed: UInt64(row["seed"] as String) ?? 0, keelVersion: row["keel_version"], startedAt: row["started_at"],
                         seconds: row["seconds"], status: row["status"], trialCount: row["trial_count"], reportJSON: row["report_json"],
                         holdoutSnapshot: row["holdout_snapshot"], actor: row["actor"])
    }

    static func datasetRecord(_ row: Row) -> DatasetRecord {
        DatasetRecord(fingerprint: row["fingerprint"], name: row["name"], source: row["source"], rows: row["rows"], columns: row["columns"],
                      schemaJSON: row["schema_json"], profileJSON: row["profile_json"], snapshot: row["snapshot"], createdAt: row["created_at"])
    }
}
