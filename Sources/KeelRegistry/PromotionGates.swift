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
