import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry
import KeelSearch
import KeelSynthetic

/// A good churn model and a useless one (trained on shuffled labels), both with the good model's holdout, so
/// that a metric gate or a comparison has something real to tell apart; and how to register them.
public struct TrainedChurn: Sendable {
    public var frame: Frame
    public var schema: Schema
    public var good: SearchOutcome
    public var noise: SearchOutcome

    public static let shared: TrainedChurn = {
        let frame = try! CSVReader.read(bytes: Array(CustomerChurnData(rows: 600, seed: 5).csv().utf8))
        let schema = try! SchemaInference.infer(frame, target: "churned").schema
        let typed = try! frame.conforming(to: schema)
        var settings = SearchSettings()
        settings.trials = 2
        settings.learners = ["linear"]
        let good = try! Search.outcome(frame: typed, schema: schema, settings: settings)
        var shuffled = typed
        var labels = typed["churned"]!
        if case .categorical(var strings) = labels.values {
            var generator = SeededGenerator(seed: 9)
            strings.codes.shuffle(using: &generator)
            labels.values = .categorical(strings)
        }
        try! shuffled.replace(labels)
        let noise = try! Search.outcome(frame: shuffled, schema: schema, settings: settings)
        return TrainedChurn(frame: typed, schema: schema, good: good, noise: noise)
    }()

    /// Registers `outcome` as the next version of `name`, with the good model's holdout unless told otherwise.
    @discardableResult
    public static func register(_ registry: Registry, _ outcome: SearchOutcome, name: String = "churn", holdout: Frame? = nil,
                                snapshot: Bool = true, actor: String = "ci") throws -> ModelVersion {
        try registry.registerTraining(registration(outcome, name: name, holdout: holdout, snapshot: snapshot, actor: actor), model: outcome.model) { version in
            try Artifact.encode(outcome.model, options: .init(name: name, version: String(version))).bytes
        }.model
    }

    /// `register` into any backend.
    @discardableResult
    public static func register(in store: any RegistryStore, _ outcome: SearchOutcome, name: String = "churn", holdout: Frame? = nil,
                                snapshot: Bool = true, actor: String = "ci") async throws -> ModelVersion {
        try await store.registerTraining(registration(outcome, name: name, holdout: holdout, snapshot: snapshot, actor: actor), model: outcome.model) { version in
            try Artifact.encode(outcome.model, options: .init(name: name, version: String(version))).bytes
        }.model
    }

    static func registration(_ outcome: SearchOutcome, name: String, holdout: Frame?, snapshot: Bool, actor: String) -> TrainingRegistration {
        let data = shared
        return TrainingRegistration(
            name: name, dataset: data.frame, datasetSource: "churn.csv", schemaJSON: "{}", profileJSON: "{}", snapshot: snapshot,
            settingsJSON: "{}", overrides: [], seed: 1, startedAt: "2026-11-25T00:00:00Z", seconds: 1, status: "completed",
            reportJSON: "{}", trials: outcome.report.trials.map {
                TrialRecord(run: 0, trial: $0.id, family: $0.family, summary: $0.summary, mean: $0.mean, std: $0.std,
                            fitSeconds: $0.fitSeconds, status: $0.status.rawValue, learnerJSON: "{}")
            }, holdout: holdout ?? data.good.holdout, actor: actor)
    }
}
