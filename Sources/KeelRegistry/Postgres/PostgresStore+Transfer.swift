import Foundation
import KeelArtifact
import KeelData
import PostgresNIO

/// Export, import, garbage collection and the signing key on PostgreSQL.
extension PostgresStore {
    /// The key that signs what this registry stores (`settings['signing.key']`); nil when it has none.
    /// Whoever can write the database can also sign: pin the public key with `keel serve --verify-key-file`.
    public func signingKey() async throws -> SigningKey? {
        try await setting("signing.key").map { try SigningKey(base64: $0, source: "the signing key in \(location)") }
    }

    /// Stores the registry's signing key (audited as a folder's is); it signs every artefact registered after.
    public func setSigningKey(_ key: SigningKey, actor: String, previous: VerifyKey?) async throws {
        try await database.audited { tx in
            try await tx.execute("""
                INSERT INTO settings (key, value) VALUES ('signing.key', \(key.base64)), ('signing.pub', \(key.verifyKey.base64))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """)
            try await tx.append(actor: actor, action: previous == nil ? "signing-key.create" : "signing-key.replace", subject: location,
                                details: ["public_key": key.verifyKey.base64, "previous_public_key": previous?.base64 ?? ""])
            try await notify(&tx, "keys")
        }
    }

    /// The public key that verifies what this registry signed; nil when it has none.
    public func verifyKey() async throws -> VerifyKey? {
        try await signingKey()?.verifyKey
    }

    /// Removes artefacts and snapshots that no version, run or dataset references.
    public func collectGarbage(dryRun: Bool, actor: String) async throws -> CollectedGarbage {
        let unused = try await database.rows("""
            SELECT name, size FROM blobs WHERE name NOT IN (
                SELECT artifact || '.keel' FROM models
                UNION SELECT snapshot FROM datasets WHERE snapshot IS NOT NULL
                UNION SELECT holdout_snapshot FROM runs WHERE holdout_snapshot IS NOT NULL)
            ORDER BY name
            """)
        var removed = CollectedGarbage(files: [], bytes: 0)
        for row in unused {
            removed.files.append(try row["name"].decode(String.self))
            removed.bytes += try row["size"].decode(Int.self)
        }
        guard !dryRun, !removed.files.isEmpty else { return removed }
        try await database.audited { tx in
            // Still unreferenced now that the head lock is held (a registration commits under it).
            for name in removed.files {
                try await tx.execute("""
                    DELETE FROM blobs WHERE name = \(name) AND name NOT IN (
                        SELECT artifact || '.keel' FROM models
                        UNION SELECT snapshot FROM datasets WHERE snapshot IS NOT NULL
                        UNION SELECT holdout_snapshot FROM runs WHERE holdout_snapshot IS NOT NULL)
                    """)
            }
            try await tx.execute("DELETE FROM write_ops WHERE at < now() - interval '1 day'")
            try await tx.append(actor: actor, action: "registry.gc", subject: location,
                                details: ["files": String(removed.files.count), "bytes": String(removed.bytes)])
        }
        return removed
    }

    public func exportBundle(_ reference: ModelReference, actor: String) async throws -> ModelBundle {
        let version = try await resolve(reference)
        let artifact = Data(try await database.blob(version.artifact + ".keel"))
        var run: RunRecord?
        if let id = version.run { run = try await self.run(id) }
        var holdout: Data?
        if let file = run?.holdoutSnapshot { holdout = Data(try await database.blob(file)) }
        let subjects = Set([version.reference] + (run.map { ["run \($0.id)"] } ?? []))
        let entries = try await auditEntries().filter { subjects.contains($0.subject) }
        var dataset: DatasetRecord?
        if let fingerprint = version.dataset { dataset = try await self.dataset(fingerprint) }
        let bundle = ModelBundle(
            format: ModelBundle.format, formatVersion: 1, model: version, artifact: artifact, run: run,
            trials: run == nil ? [] : try await trials(ofRun: run!.id), dataset: dataset,
            holdout: holdout, approvals: try await approvals(name: version.name, version: version.version),
            history: try await stageEvents(name: version.name).filter { $0.version == version.version }, audit: entries)
        try await audit(actor: actor, action: "model.export", subject: version.reference, details: ["artifact": version.artifact])
        return bundle
    }

    public func importBundle(_ bundle: ModelBundle, actor: String, signingKey: SigningKey?) async throws -> ModelVersion {
        let bytes = try RegistryRules.importedArtifact(bundle, signingKey: signingKey)
        let artifact = Registry.sha256(bytes)
        var holdoutFile: String?
        if let data = bundle.holdout {
            let frame = try FrameSnapshot.decode(Array(data), file: "the bundle's holdout")
            holdoutFile = try await storeSnapshot(frame, fingerprint: frame.fingerprint)
        }
        try await database.putBlob(artifact + ".keel", kind: .artifact, bytes: bytes)
        return try await database.audited { tx in
            if let existing = try await tx.rows("SELECT artifact FROM models WHERE name = \(bundle.model.name) AND version = \(bundle.model.version)").first {
                let same = try existing["artifact"].decode(String.self) == artifact
                throw RegistryError.invalid("\(bundle.model.reference) already exists here\(same ? " (the same artefact: it was imported before)" : " with a different artefact")")
            }
            if let dataset = bundle.dataset, try await tx.rows("SELECT 1 FROM datasets WHERE fingerprint = \(dataset.fingerprint)").isEmpty {
                try await tx.execute("""
                    INSERT INTO datasets (fingerprint, name, source, "rows", "columns", schema_json, profile_json, snapshot, created_at)
                    VALUES (\(dataset.fingerprint), \(dataset.name), \(dataset.source), \(dataset.rows), \(dataset.columns), \(dataset.schemaJSON),
                            \(dataset.profileJSON), NULL, \(dataset.createdAt))
                    """)
            }
            var runID: Int?
            if let run = bundle.run, bundle.dataset != nil {
                let overridesJSON = String(decoding: try JSONEncoder().encode(run.overrides), as: UTF8.self)
                let inserted = try await tx.rows("""
                    INSERT INTO runs (name, dataset, settings_json, overrides_json, seed, keel_version, started_at, seconds, status,
                                      trial_count, report_json, holdout_snapshot, actor)
                    VALUES (\(run.name), \(run.dataset), \(run.settingsJSON), \(overridesJSON), \(String(run.seed)), \(run.keelVersion), \(run.startedAt),
                            \(run.seconds), \(run.status), \(run.trialCount), \(run.reportJSON), \(holdoutFile), \(run.actor))
                    RETURNING id
                    """)
                let id = try inserted[0]["id"].decode(Int.self)
                runID = id
                for trial in bundle.trials {
                    try await tx.execute("""
                        INSERT INTO trials (run, trial, family, summary, mean, std, fit_seconds, status, learner_json)
                        VALUES (\(id), \(trial.trial), \(trial.family), \(trial.summary), \(Registry.finite(trial.mean)), \(Registry.finite(trial.std)),
                                \(trial.fitSeconds), \(trial.status), \(trial.learnerJSON))
                        """)
                }
            }
            let record = RegistryRules.importedVersion(bundle, artifact: artifact, size: bytes.count, run: runID)
            try await insertModel(&tx, record)
            try await recordStage(&tx, record.name, record.version, from: nil, to: .candidate, actor: actor, reason: .imported, forced: false)
            try await tx.append(actor: actor, action: "model.import", subject: record.reference,
                                details: try RegistryRules.importDetails(bundle, artifact: record.artifact))
            try await notify(&tx, "model \(record.name)")
            return record
        }
    }
}
