import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelMonitor
import KeelRegistry

/// Retraining by policy and the champion/challenger contest: when a model's `models.NAME.retrain` policy
/// calls for a new version, what it trains on, and whether the challenger beats the champion. Used by
/// `keel retrain`, which the server's `RetrainJob` runs in a child process.
public enum Retraining {
    /// Whether the policy names any condition at all (otherwise only `--force` retrains).
    public static func hasConditions(_ policy: RetrainPolicy) -> Bool {
        policy.driftFeatures != nil || policy.performanceDrop != nil || policy.every != nil
    }

    /// The policy conditions that hold now, in words: the champion's age, drifted features in the logged
    /// inputs, and the metric on labelled predictions against the holdout's.
    public static func triggers(policy: RetrainPolicy, champion: ModelVersion, model: TrainedModel,
                                logged: [LoggedPrediction], now: Date = Date()) throws -> [String] {
        var reasons: [String] = []
        if let every = policy.every, let created = Registry.date(champion.createdAt), now.timeIntervalSince(created) >= every {
            reasons.append("\(champion.reference) is older than \(DurationText.describe(every))")
        }
        guard !logged.isEmpty, policy.driftFeatures != nil || policy.performanceDrop != nil else { return reasons }
        var monitored = model
        let frame = try LoggedFrame.make(logged, schema: model.schema)
        monitored.profile?.columns.removeAll { frame[$0.name] == nil }
        var settings = MonitorSettings()
        settings.timeColumn = LoggedFrame.timeColumn
        let report = try Monitor.run(model: monitored, data: frame, modelName: champion.reference, dataName: "prediction log", createdAt: "", settings: settings)
        if let k = policy.driftFeatures, report.dataDrift.driftedFeatures.count >= k {
            reasons.append("\(report.dataDrift.driftedFeatures.count) features drifted (\(report.dataDrift.driftedFeatures.map(\.name).joined(separator: ", ")); policy: \(k))")
        }
        if let drop = policy.performanceDrop, let concept = report.conceptDrift, concept.overall.isFinite {
            let change = (model.provenance.metric.higherIsBetter ? concept.overall - concept.baseline : concept.baseline - concept.overall) / max(abs(concept.baseline), 1e-12)
            if change < -drop {
                reasons.append(String(format: "%@ on labelled predictions is %.4f, %.1f%% worse than the holdout's %.4f (policy: %.1f%%)",
                                      concept.metric, concept.overall, -change * 100, concept.baseline, drop * 100))
            }
        }
        return reasons
    }

    /// What a challenger learns from and is judged on: the champion's dataset plus the older labelled
    /// predictions, with the newest `recent` share (at least 20, when there are 40 or more) kept back for
    /// the contest, since neither model trained on them.
    public struct TrainingData {
        public var combined: Frame
        public var learnedFrom: Int
        public var comparison: [LoggedPrediction]
    }

    public static func data(base: Frame, labelled: [LoggedPrediction], schema: Schema, recent: Double) throws -> TrainingData {
        let keepBack = labelled.count >= 40 ? max(20, Int(Double(labelled.count) * recent)) : 0
        let learnFrom = Array(labelled.dropLast(keepBack)), comparison = Array(labelled.suffix(keepBack))
        let combined = learnFrom.isEmpty ? base : try base.appending(try LoggedFrame.make(learnFrom, schema: schema))
        return TrainingData(combined: combined, learnedFrom: learnFrom.count, comparison: comparison)
    }

    /// Champion against challenger on the same rows: the kept-back labelled predictions when there are 20
    /// or more, else the challenger's holdout. The verdict is a gate a promotion records.
    public static func contest(champion: (version: ModelVersion, model: TrainedModel), challenger: (version: ModelVersion, model: TrainedModel),
                               comparison: [LoggedPrediction], schema: Schema, store: some RegistryStore,
                               readOptions: Artifact.ReadOptions) async throws -> (verdict: GateResult, wins: Bool, data: String) {
        let metric = champion.model.provenance.metric
        let contest: HeadToHead
        if comparison.count >= 20 {
            let frame = try LoggedFrame.make(comparison, schema: schema)
            var scores: [String: Double] = [:]
            for side in [champion, challenger] {
                scores[side.version.reference] = try HoldoutScoring.score(side.model, on: frame, metric: metric)
            }
            contest = HeadToHead(metric: metric.rawValue, rows: frame.rowCount, data: "the newest \(frame.rowCount) labelled predictions", scores: scores)
        } else {
            contest = try await PromotionGates.compare(challenger.version, champion.version, store: store, readOptions: readOptions)
        }
        let mine = contest.scores[challenger.version.reference] ?? .nan, theirs = contest.scores[champion.version.reference] ?? .nan
        let wins = metric.higherIsBetter ? mine >= theirs : mine <= theirs
        let verdict = GateResult(gate: "challenger", passed: wins, detail: String(
            format: "%@ on %@: challenger %@ %.4f, champion %@ %.4f", contest.metric, contest.data, challenger.version.reference, mine,
            champion.version.reference, theirs))
        return (verdict, wins, contest.data)
    }
}
