import Foundation
import GRDB
import KeelArtifact
import KeelData

/// A model version with its lineage, moved between registries by `keel models export` / `import`.
/// The artefact and the holdout travel inside; the training data stays behind (its fingerprint travels).
public struct ModelBundle: Codable, Sendable {
    public static let format = "keel-model-bundle"
    public var format: String
    public var formatVersion: Int
    public var model: ModelVersion
    public var artifact: Data
    public var run: RunRecord?
    public var trials: [TrialRecord]
    public var dataset: DatasetRecord?
    public var holdout: Data?
    public var approvals: [Approval]
    public var history: [StageEvent]
    /// The source registry's audit entries about this version and its run, hashes included.
    public var audit: [AuditEntry]

    /// The bundle as a file's bytes. Trials that were pruned or stopped have no score (NaN), so non-finite
    /// numbers are written as strings, as in artefacts.
    public func encoded() throws -> [UInt8] {
        Array(try Artifact.payloadEncoder().encode(self))
    }

    /// Reads what `encoded()` wrote.
    public static func decode(_ data: Data) throws -> ModelBundle {
        try Artifact.payloadDecoder().decode(ModelBundle.self, from: data)
    }
}

/// What `keel gc` removed.
public struct CollectedGarbage: Sendable, Equatable {
    public var files: [String]
    public var bytes: Int
}

extension Registry {
    /// Removes artefacts and snapshots that no version, run or dataset references.
    public func collectGarbage(dryRun: Bool, actor: String) throws -> CollectedGarbage {
        let (artifacts, snapshots) = try read { db in
            (Set(try String.fetchAll(db, sql: "SELECT artifact FROM models").map { $0 + ".keel" }),
             Set(try String.fetchAll(db, sql: "SELECT snapshot FROM datasets WHERE snapshot IS NOT NULL UNION SELECT holdout_snapshot FROM runs WHERE holdout_snapshot IS NOT NULL")))
        }
        var removed = CollectedGarbage(files: [], bytes: 0)
        let manager = FileManager.default
        for (folder, keep) in [(artifactsFolder, artifacts), (snapshotsFolder, snapshots)] {
            for file in ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted() where !keep.contains(file) {
                let path = folder + "/" + file
                removed.bytes += ((try? manager.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
                removed.files.append(path)
                if !dryRun { try manager.removeItem(atPath: path) }
            }
        }
        if !dryRun && !removed.files.isEmpty {
            try audit(actor: actor, action: "registry.gc", subject: folder,
                      details: ["files": String(removed.files.count), "bytes": String(removed.bytes)])
        }
        return removed
    }

    public func exportBundle(_ reference: ModelReference, actor: String) throws -> ModelBundle {
        let version = try resolve(reference)
        guard let artifact = FileManager.default.contents(atPath: artifactPath(version)) else {
            throw RegistryError.notFound("the artefact of \(version.reference) is missing from \(artifactsFolder) (was it removed by hand?)")
        }
        let run = try version.run.map(self.run)
        let holdout = try run?.holdoutSnapshot.map { file -> Data in
            guard let data = FileManager.default.contents(atPath: snapshotsFolder + "/" + file) else {
                throw RegistryError.notFound("the holdout snapshot \(file) of \(version.reference) is missing")
            }
            return data
        }
        let subjects = Set([version.reference] + (run.map { ["run \($0.id)"] } ?? []))
        let entries = try auditEntries().filter { subjects.contains($0.subject) }
        let bundle = ModelBundle(
            format: ModelBundle.format, formatVersion: 1, model: version, artifact: artifact, run: run,
            trials: try run.map { try trials(ofRun: $0.id) } ?? [], dataset: try version.dataset.map { try dataset($0) },
            holdout: holdout, approvals: try approvals(name: version.name, version: version.version),
            history: try stageEvents(name: version.name).filter { $0.version == version.version }, audit: entries)
        try audit(actor: actor, action: "model.export", subject: version.reference, details: ["artifact": version.artifact])
        return bundle
    }

    /// Adds an exported version as a candidate under the same name and version number. Its source audit
    /// entries are checked and kept inside this registry's own `model.import` entry (this chain stays whole);
    /// approvals from the source are recorded there too but do not count for this registry's gates.
    /// With `signingKey` (this registry's, see `signingKey()`), the artefact is stored signed by it, under
    /// its new checksum; the audit entry keeps the source's checksum.
    public func importBundle(_ bundle: ModelBundle, actor: String, signingKey: SigningKey? = nil) throws -> ModelVersion {
        let bytes = try RegistryRules.importedArtifact(bundle, signingKey: signingKey)
        let artifact = Registry.sha256(bytes)
        let holdoutFile = try bundle.holdout.map { data -> String in
            let frame = try FrameSnapshot.decode(Array(data), file: "the bundle's holdout")
            return try storeSnapshot(frame, fingerprint: frame.fingerprint)
        }
        let path = artifactsFolder + "/\(artifact).keel"
        if !FileManager.default.fileExists(atPath: path) { try AtomicFile.write(bytes, to: path) }
        return try write { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT artifact FROM models WHERE name = ? AND version = ?",
                                               arguments: [bundle.model.name, bundle.model.version]) {
                let same = (existing["artifact"] as String) == artifact
                throw RegistryError.invalid("\(bundle.model.reference) already exists here\(same ? " (the same artefact: it was imported before)" : " with a different artefact")")
            }
            if let dataset = bundle.dataset,
               try Row.fetchOne(db, sql: "SELECT 1 FROM datasets WHERE fingerprint = ?", arguments: [dataset.fingerprint]) == nil {
                try db.execute(sql: """
                    INSERT INTO datasets (fingerprint, name, source, rows, columns, schema_json, profile_json, snapshot, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)
                    """, arguments: [dataset.fingerprint, dataset.name, dataset.source, dataset.rows, dataset.columns, dataset.schemaJSON,
                                     dataset.profileJSON, dataset.createdAt])
            }
            var runID: Int?
            if let run = bundle.run, bundle.dataset != nil {
                let overridesJSON = String(decoding: try JSONEncoder().encode(run.overrides), as: UTF8.self)
                try db.execute(sql: """
                    INSERT INTO runs (name, dataset, settings_json, overrides_json, seed, keel_version, started_at, seconds, status,
                                      trial_count, report_json, holdout_snapshot, actor)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [run.name, run.dataset, run.settingsJSON, overridesJSON, String(run.seed), run.keelVersion, run.startedAt,
                                     run.seconds, run.status, run.trialCount, run.reportJSON, holdoutFile, run.actor])
                runID = Int(db.lastInsertedRowID)
                for trial in bundle.trials {
                    try db.execute(sql: """
                        INSERT INTO trials (run, trial, family, summary, mean, std, fit_seconds, status, learner_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [runID, trial.trial, trial.family, trial.summary, Registry.finite(trial.mean), Registry.finite(trial.std),
                                         trial.fitSeconds, trial.status, trial.learnerJSON])
                }
            }
            let record = RegistryRules.importedVersion(bundle, artifact: artifact, size: bytes.count, run: runID)
            try insertModel(db, record)
            try recordStage(db, record.name, record.version, from: nil, to: .candidate, actor: actor, reason: .imported, forced: false)
            try AuditLog.append(db, actor: actor, action: "model.import", subject: record.reference,
                                details: try RegistryRules.importDetails(bundle, artifact: record.artifact))
            return record
        }
    }
}
