import Foundation

/// The life stages of a model version. A new version is a candidate; promotion moves it to staging or
/// production; the production version it replaces is archived.
public enum Stage: String, Codable, Sendable, CaseIterable {
    case candidate, staging, production, archived
}

/// A dataset the registry has seen, keyed by its typed-content fingerprint.
public struct DatasetRecord: Codable, Sendable, Equatable {
    public var fingerprint: String
    public var name: String
    public var source: String
    public var rows: Int
    public var columns: Int
    /// The schema the data was read with, as JSON.
    public var schemaJSON: String
    /// A per-column profile (kinds, missing counts, levels), as JSON.
    public var profileJSON: String
    /// The snapshot's file name under `snapshots/`, nil with `--no-snapshot`.
    public var snapshot: String?
    public var createdAt: String
}

/// One training run: its settings, seed and outcome.
public struct RunRecord: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var dataset: String
    /// The settings the run was started with (the command line and config file, resolved), as JSON.
    public var settingsJSON: String
    public var overrides: [String]
    public var seed: UInt64
    public var keelVersion: String
    public var startedAt: String
    public var seconds: Double
    public var status: String
    public var trialCount: Int
    /// The search report, as JSON.
    public var reportJSON: String
    /// The holdout rows as a snapshot under `snapshots/`: the data promotion gates and comparisons score on.
    public var holdoutSnapshot: String?
    public var actor: String
}

/// One trial of a run.
public struct TrialRecord: Codable, Sendable, Equatable {
    public var run: Int
    public var trial: Int
    public var family: String
    public var summary: String
    public var mean: Double
    public var std: Double
    public var fitSeconds: Double
    public var status: String
    public var learnerJSON: String

    public init(run: Int, trial: Int, family: String, summary: String, mean: Double, std: Double, fitSeconds: Double,
                status: String, learnerJSON: String) {
        (self.run, self.trial, self.family, self.summary, self.mean, self.std) = (run, trial, family, summary, mean, std)
        (self.fitSeconds, self.status, self.learnerJSON) = (fitSeconds, status, learnerJSON)
    }
}

/// One registered version of a named model.
public struct ModelVersion: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int
    /// The SHA-256 of the artefact file, which is also its file name under `artifacts/`.
    public var artifact: String
    public var size: Int
    public var task: String
    public var modelKind: String
    public var metric: String
    public var crossValidatedScore: Double
    public var holdoutScore: Double
    public var run: Int?
    public var dataset: String?
    public var createdAt: String
    public var createdBy: String
    public var stage: Stage

    /// `NAME@VERSION`.
    public var reference: String { "\(name)@\(version)" }
}

/// A move of a version from one stage to another.
public struct StageEvent: Codable, Sendable, Equatable {
    public enum Reason: String, Codable, Sendable { case registered, promoted, replaced, rollback, restored, imported }
    public var name: String
    public var version: Int
    public var from: Stage?
    public var to: Stage
    public var actor: String
    public var at: String
    public var reason: Reason
    public var forced: Bool
}

/// A human sign-off on a version.
public struct Approval: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int
    public var actor: String
    public var comment: String
    public var at: String
}

/// One interval a version spent in a stage; `until` is nil while it is still there.
public struct StageTenure: Codable, Sendable, Equatable {
    public var version: Int
    public var stage: Stage
    public var from: String
    public var until: String?
    public var movedBy: String
    public var reason: StageEvent.Reason
}
