#if canImport(Glibc)
import Glibc
#endif
import KeelData

/// A weighted blend of fitted models (Caruana et al. 2004 ensemble selection), combined in raw-margin
/// space (log-odds, per-class logits or values) so that the blend's explanation is the same weighted sum of
/// its members' explanations. Members share one preprocessing pipeline and one feature matrix; a member may
/// itself be an ensemble of plain models (boosted trees on a linear base).
public struct EnsembleModel: Codable, Sendable, Equatable {
    public let task: TaskKind
    public let outputs: Int
    public let members: [FittedModel]
    /// Non-negative; summing to 1 for a blend, free for a stack.
    public let weights: [Double]
    /// A stacked second layer's intercept per output (nil for a blend, and in artefacts from before stacking).
    public let intercepts: [Double]?

    /// A blend (`intercepts` nil, weights summing to 1) or a stacked linear layer over the members' margins.
    public init(task: TaskKind, outputs: Int, members: [FittedModel], weights: [Double], intercepts: [Double]? = nil) throws {
        guard !members.isEmpty, members.count == weights.count, weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw LearnError.invalidParameter("an ensemble needs members with non-negative weights")
        }
        if let intercepts {
            guard intercepts.count == outputs, intercepts.allSatisfy(\.isFinite) else {
                throw LearnError.invalidParameter("a stacked ensemble needs one finite intercept per output")
            }
        } else if abs(weights.reduce(0, +) - 1) >= 1e-9 {
            throw LearnError.invalidParameter("a blend's weights must sum to 1")
        }
        // One level of nesting: a blend may hold a linear-plus-trees stack (`ResidualBoosting`), no deeper.
        func isEnsemble(_ model: FittedModel) -> Bool { if case .ensemble = model { true } else { false } }
        if members.contains(where: { if case .ensemble(let inner) = $0 { inner.members.contains(where: isEnsemble) } else { false } }) {
            throw LearnError.invalidParameter("ensembles nest one level deep at most")
        }
        self.task = task
        self.outputs = outputs
        self.members = members
        self.weights = weights
        self.intercepts = intercepts
    }

    public func rawScores(_ matrix: FeatureMatrix) throws -> [Double] {
        var blend = [Double](repeating: 0, count: matrix.rowCount * outputs)
        if let intercepts { for i in blend.indices { blend[i] = intercepts[i % outputs] } }
        for (member, weight) in zip(members, weights) {
            let raw = try member.rawScores(matrix, task: task)
            for i in blend.indices { blend[i] += weight * raw[i] }
        }
        return blend
    }

    public func predict(_ matrix: FeatureMatrix) throws -> [Double] {
        ScoreLink.apply(try rawScores(matrix), task: task, outputs: outputs)
    }
}

extension FittedModel {
    /// Raw margins, row-major: one per row (binary log-odds, regression values) or one per class. Forests
    /// predict probabilities, whose logits (clamped away from 0 and 1) serve as their margins.
    public func rawScores(_ matrix: FeatureMatrix, task: TaskKind) throws -> [Double] {
        switch self {
        case .gradientBoosting(let model): return try model.rawScores(matrix)
        case .linear(let model): return try model.rawScores(matrix)
        case .explainableBoosting(let model): return try model.rawScores(matrix)
        case .ensemble(let model): return try model.rawScores(matrix)
        case .external(let model): return try model.predictor.rawScores(matrix)
        case .forest(let model):
            let p = try model.predict(matrix)
            switch task {
            case .regression: return p
            case .binary: return stride(from: 1, to: p.count, by: 2).map { let q = min(max(p[$0], 1e-6), 1 - 1e-6); return log(q / (1 - q)) }
            case .multiclass: return p.map { log(min(max($0, 1e-6), 1)) }
            }
        }
    }
}
