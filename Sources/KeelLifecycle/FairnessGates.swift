import KeelArtifact
import KeelData
import KeelMonitor
import KeelRegistry

/// Fairness gates: the bias audit of a candidate on its own holdout, as promotion gate results.
public enum FairnessGates {
    public static func evaluate(_ gate: FairnessGate, candidate: ModelVersion, store: some RegistryStore,
                         readOptions: Artifact.ReadOptions) async throws -> [GateResult] {
        guard let runID = candidate.run, let file = try await store.run(runID).holdoutSnapshot else {
            return [GateResult(gate: "fairness", passed: false, detail: "\(candidate.reference) has no holdout in the registry to audit")]
        }
        let holdout = try await store.loadSnapshot(file)
        let model = try Artifact.read(from: try await store.artifactFile(candidate), options: readOptions).model
        guard let task = model.schema.task, task.kind == .binary, let classes = task.classes, let target = model.schema.target,
              let labels = holdout[target] else {
            return [GateResult(gate: "fairness", passed: false, detail: "fairness gates need a binary model with its holdout labels")]
        }
        let predictions = try model.predictor.predict(holdout)
        let actual = (0..<holdout.rowCount).map { labels.displayValue(at: $0) == classes[1] }
        return gate.attributes.map { attribute in
            guard let column = holdout[attribute] else {
                return GateResult(gate: "fairness \(attribute)", passed: false, detail: "the holdout has no column '\(attribute)'")
            }
            let audit = BiasAudit.audit(attribute: attribute, positiveClass: classes[1], groups: (0..<holdout.rowCount).map { column.displayValue(at: $0) },
                                        predicted: predictions.map { $0.label == classes[1] }, actual: actual, thresholds: gate.thresholds)
            let summary = String(format: "parity difference %.3f, disparate impact %.3f", audit.demographicParityDifference, audit.disparateImpactRatio) +
                (audit.equalOpportunityDifference.map { String(format: ", equal opportunity difference %.3f", $0) } ?? "") + " on \(holdout.rowCount) holdout rows"
            return GateResult(gate: "fairness \(attribute)", passed: audit.violations.isEmpty,
                              detail: audit.violations.isEmpty ? summary : audit.violations.joined(separator: "; ") + " (\(summary))")
        }
    }
}
