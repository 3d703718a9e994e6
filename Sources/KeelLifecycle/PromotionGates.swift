import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry

/// The gates a version passes on its way to production, evaluated here (they load and score models, which
/// the store does not) and recorded by `Registry.promote`: the holdout metric against the production
/// version and the approvals (`PromotionPolicy`), and fairness (`FairnessGates`).
public enum PromotionGates {
    /// The gates for production: the metric against the current production version (both scored on the
    /// candidate's holdout) and the number of approvals.
    public static func evaluate(candidate: ModelVersion, store: some RegistryStore, policy: PromotionPolicy,
                                readOptions: Artifact.ReadOptions = Artifact.ReadOptions()) async throws -> [GateResult] {
        var gates: [GateResult] = []
        if let tolerance = policy.maxMetricDrop {
            let production = try await store.models(named: candidate.name).first { $0.stage == .production }
            if let production {
                let contest = try await compare(candidate, production, store: store, readOptions: readOptions)
                let metric = Metric(rawValue: contest.metric) ?? .accuracy
                let mine = contest.scores[candidate.reference] ?? .nan
                let theirs = contest.scores[production.reference] ?? .nan
                let drop = metric.higherIsBetter ? theirs - mine : mine - theirs
                let passed = drop <= tolerance + 1e-12
                gates.append(GateResult(gate: "metric", passed: passed, detail: String(
                    format: "%@ on %@ (%d rows): candidate %.4f, production %@ %.4f, %@ %.4f (tolerance %.4f)",
                    contest.metric, contest.data, contest.rows, mine, production.reference, theirs,
                    drop > 0 ? "worse by" : "better by", abs(drop), tolerance)))
            } else {
                gates.append(GateResult(gate: "metric", passed: true, detail: "no production version of \(candidate.name) to compare with"))
            }
        }
        if policy.requiredApprovals > 0 {
            let approvals = try await store.approvals(name: candidate.name, version: candidate.version)
            let passed = approvals.count >= policy.requiredApprovals
            gates.append(GateResult(gate: "approval", passed: passed, detail: passed
                ? "approved by \(approvals.map(\.actor).joined(separator: ", "))"
                : "\(approvals.count) of \(policy.requiredApprovals) required approvals (keel models approve \(candidate.name) \(candidate.version) --by NAME)"))
        }
        return gates
    }

    /// Scores both versions on the first one's holdout (the data the search never saw), with its metric.
    public static func compare(_ first: ModelVersion, _ second: ModelVersion, store: some RegistryStore,
                               readOptions: Artifact.ReadOptions = Artifact.ReadOptions()) async throws -> HeadToHead {
        guard let runID = first.run, let file = try await store.run(runID).holdoutSnapshot else {
            throw RegistryError.notFound("\(first.reference) has no holdout in the registry (it was imported or trained without one)")
        }
        let holdout = try await store.loadSnapshot(file)
        guard let metric = Metric(rawValue: first.metric) else { throw RegistryError.invalid("unknown metric \(first.metric)") }
        var scores: [String: Double] = [:]
        var models: [TrainedModel] = []
        for version in [first, second] {
            models.append(try Artifact.read(from: try await store.artifactFile(version), options: readOptions).model)
        }
        // The holdout was kept after the first version's privacy rules; a version under other rules would be
        // scored on values it never saw (pseudonyms for raw values, bands for ages).
        let rules = models.map { ($0.schema.privacy ?? [:], $0.schema.pseudonymKeyCheck) }
        guard rules[0].0 == rules[1].0, rules[0].1 == rules[1].1 else {
            throw RegistryError.invalid("\(first.reference) and \(second.reference) apply different privacy rules to their data, so one holdout cannot score both fairly")
        }
        for (version, model) in zip([first, second], models) {
            scores[version.reference] = try HoldoutScoring.score(model, on: holdout, metric: metric)
        }
        return HeadToHead(metric: metric.rawValue, rows: holdout.rowCount, data: "holdout of \(first.reference)", scores: scores)
    }

    /// Evaluates every gate production needs and moves the version, as `keel models promote` and
    /// `keel retrain --promote` do; `extra` gates (the challenger's contest) are recorded beside them.
    public static func promote(name: String, version: Int, to stage: Stage, actor: String, store: some RegistryStore,
                               policy: PromotionPolicy = PromotionPolicy(), fairness: FairnessGate? = nil,
                               extra: [GateResult] = [], force: Bool = false,
                               readOptions: Artifact.ReadOptions = Artifact.ReadOptions()) async throws -> Promotion {
        let target = try await store.promotable(name: name, version: version, to: stage)
        var gates: [GateResult] = []
        if stage == .production {
            gates = try await evaluate(candidate: target, store: store, policy: policy, readOptions: readOptions) + extra
            if let fairness { gates += try await FairnessGates.evaluate(fairness, candidate: target, store: store, readOptions: readOptions) }
        }
        return try await store.promote(name: name, version: version, to: stage, actor: actor, gates: gates, force: force)
    }
}

/// Scores a model on labelled rows with a given metric, the way the search scored its holdout.
public enum HoldoutScoring {
    public static func score(_ model: TrainedModel, on frame: Frame, metric: Metric) throws -> Double {
        guard let targetName = model.schema.target, let task = model.schema.task else {
            throw LifecycleError.invalid("the model has no target, so it cannot be scored")
        }
        guard let target = frame[targetName] else {
            throw LifecycleError.invalid("the comparison data has no column '\(targetName)' (the model's target)")
        }
        guard metric.isRegression == (task.kind == .regression) else {
            throw LifecycleError.invalid("metric \(metric.rawValue) does not fit a \(task.kind.rawValue) model")
        }
        let truth = try TargetEncoding(column: target.converted(to: task.kind == .regression ? .numeric : .categorical), task: task)
        return try metric.evaluate(truth: truth.values, predictions: model.predictor.outputs(frame), classCount: truth.classCount)
    }
}
