import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry
import KeelSearch

/// Registers a finished search in the registry: shared by `keel train` and `keel retrain`.
public struct TrainingRecorder {
    public var registry: any RegistryStore
    public var name: String
    public var source: String
    public var snapshot: Bool
    public var actor: String
    public var writeOptions: Artifact.WriteOptions

    public init(registry: any RegistryStore, name: String, source: String, snapshot: Bool, actor: String, writeOptions: Artifact.WriteOptions) {
        (self.registry, self.name, self.source, self.snapshot, self.actor, self.writeOptions) = (registry, name, source, snapshot, actor, writeOptions)
    }

    /// Records the dataset, run, trials and holdout, and stores the model as the next version of `name`.
    /// A registry with a signing key signs what it stores with that key, whatever `writeOptions` says: a
    /// server following the registry verifies against it.
    /// `settings` is the run's settings as the caller records them (the command line's, with its flags).
    /// Returns the version with the artefact's bytes as stored: encoded once, inside the registration (the
    /// version number is in its manifest), and the same bytes go to any copy (`writeCopy`).
    public func register(_ outcome: SearchOutcome, model: TrainedModel, frame: Frame, schema: Schema, profileJSON: String,
                         settings: some Encodable, seed: UInt64, overrides: [String], startedAt: String, seconds: Double,
                         status: String) async throws -> Registered {
        let report = outcome.report
        let registration = TrainingRegistration(
            name: name, dataset: frame, datasetSource: source, schemaJSON: try JSONOutput.compact(schema), profileJSON: profileJSON,
            snapshot: snapshot, settingsJSON: try JSONOutput.compact(settings), overrides: overrides, seed: seed,
            startedAt: startedAt, seconds: seconds, status: status, reportJSON: try JSONOutput.compact(report),
            trials: try report.trials.map { trial in
                TrialRecord(run: 0, trial: trial.id, family: trial.family, summary: trial.summary, mean: trial.mean, std: trial.std,
                            fitSeconds: trial.fitSeconds, status: trial.status.rawValue, learnerJSON: try JSONOutput.compact(trial.learner))
            },
            holdout: outcome.holdout, actor: actor)
        let registryKey = try await registry.signingKey()
        var encoded: [UInt8] = []
        let version = try await registry.registerTraining(registration, model: model) { number in
            var options = writeOptions
            if let registryKey { options.signingKey = registryKey }
            options.name = name
            options.version = String(number)
            encoded = try Artifact.encode(model, options: options).bytes
            return encoded
        }.model
        return Registered(version: version, artifact: encoded)
    }

    /// A registered version and its artefact's bytes, as the registry stored them.
    public struct Registered: Sendable {
        public var version: ModelVersion
        public var artifact: [UInt8]
    }

    /// The `--out` copy of a registered version: the bytes the registry stored, unless `writeOptions` signs
    /// with a key other than the registry's (`--sign-key-file`), which then signs this copy instead.
    public func writeCopy(of registered: Registered, model: TrainedModel, to path: String) async throws {
        if let own = writeOptions.signingKey, let registryKey = try await registry.signingKey(), own.verifyKey != registryKey.verifyKey {
            var options = writeOptions
            options.name = name
            options.version = String(registered.version.version)
            try Artifact.write(model, to: path, options: options)
        } else if !registered.artifact.isEmpty {
            try AtomicFile.write(registered.artifact, to: path)
        } else {
            // A store that did not hand back the bytes it stored: copy its file.
            try AtomicFile.write(Array(try Data(contentsOf: URL(fileURLWithPath: try await registry.artifactFile(registered.version)))), to: path)
        }
    }

    /// Columns, kinds and missing counts: the profile of a dataset assembled in memory (no file to inspect).
    public static func summaryJSON(_ frame: Frame) throws -> String {
        struct Entry: Encodable { var name: String; var kind: String; var missing: Int }
        struct Summary: Encodable { var rows: Int; var columns: [Entry] }
        return try JSONOutput.compact(Summary(rows: frame.rowCount, columns: frame.columns.map { Entry(name: $0.name, kind: $0.kind.rawValue, missing: $0.missingCount) }))
    }
}
