import Foundation
import KeelData
import KeelLearn

/// The gates a version must pass before it reaches production, configured per model name in `keel.yaml`.
public struct PromotionPolicy: Codable, Sendable, Equatable {
    /// How much worse than production the candidate's holdout metric may be (in the metric's own units).
    public var maxMetricDrop: Double?
    /// How many human approvals (`keel models approve`) production needs; 0 for none.
    public var requiredApprovals: Int

    public init(maxMetricDrop: Double? = nil, requiredApprovals: Int = 0) {
        self.maxMetricDrop = maxMetricDrop
        self.requiredApprovals = requiredApprovals
    }
}

/// One gate's verdict.
public struct GateResult: Codable, Sendable, Equatable {
    public var gate: String
    public var passed: Bool
    public var detail: String

    public init(gate: String, passed: Bool, detail: String) {
        self.gate = gate
        self.passed = passed
        self.detail = detail
    }
}

/// Scores of two models on the same rows.
public struct HeadToHead: Codable, Sendable, Equatable {
    public var metric: String
    public var rows: Int
    /// Where the rows came from (`holdout of NAME@VERSION`).
    public var data: String
    public var scores: [String: Double]

    public init(metric: String, rows: Int, data: String, scores: [String: Double]) {
        (self.metric, self.rows, self.data, self.scores) = (metric, rows, data, scores)
    }
}

/// Scores a model on labelled rows with a given metric, the way the search scored its holdout.
public enum HoldoutScoring {
    public static func score(_ model: TrainedModel, on frame: Frame, metric: Metric) throws -> Double {
        guard let targetName = model.schema.target, let task = model.schema.task else {
            throw RegistryError.invalid("the model has no target, so it cannot be scored")
        }
        guard let target = frame[targetName] else {
            throw RegistryError.invalid("the comparison data has no column '\(targetName)' (the model's target)")
        }
        guard metric.isRegression == (task.kind == .regression) else {
            throw RegistryError.invalid("metric \(metric.rawValue) does not fit a \(task.kind.rawValue) model")
        }
        let truth = try TargetEncoding(column: target.converted(to: task.kind == .regression ? .numeric : .categorical), task: task)
        return try metric.evaluate(truth: truth.values, predictions: model.outputs(frame), classCount: truth.classCount)
    }
}
