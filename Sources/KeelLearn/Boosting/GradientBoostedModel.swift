import KeelData
#if canImport(Glibc)
import Glibc
#endif

/// A fitted gradient-boosted tree ensemble. Raw scores are the initial score plus the sum of tree outputs:
/// log-odds (binary), per-class logits (multiclass) or values (regression).
public struct GradientBoostedModel: Codable, Sendable, Equatable {
    public let objective: Objective
    /// 1 for binary and regression, k for multiclass.
    public let outputCount: Int
    public let initialScores: [Double]
    /// Round-major: the tree for round r and class k is `trees[r * outputCount + k]`.
    public let trees: [Tree]
    public let featureKinds: [FeatureKind]
    /// Rounds kept (after early stopping, the best round) and why training ended.
    public let rounds: Int
    public let stopReason: StopReason
    /// The trees laid out for fast prediction (derived, not saved).
    private let packed: PackedTrees

    public init(objective: Objective, outputCount: Int, initialScores: [Double], trees: [Tree], featureKinds: [FeatureKind],
                rounds: Int, stopReason: StopReason) {
        self.objective = objective
        self.outputCount = outputCount
        self.initialScores = initialScores
        self.trees = trees
        self.featureKinds = featureKinds
        self.rounds = rounds
        self.stopReason = stopReason
        packed = PackedTrees(trees)
    }

    enum CodingKeys: String, CodingKey {
        case objective, outputCount, initialScores, trees, featureKinds, rounds, stopReason
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(objective: try c.decode(Objective.self, forKey: .objective), outputCount: try c.decode(Int.self, forKey: .outputCount),
                  initialScores: try c.decode([Double].self, forKey: .initialScores), trees: try c.decode([Tree].self, forKey: .trees),
                  featureKinds: try c.decode([FeatureKind].self, forKey: .featureKinds), rounds: try c.decode(Int.self, forKey: .rounds),
                  stopReason: try c.decode(StopReason.self, forKey: .stopReason))
    }

    public static func == (a: GradientBoostedModel, b: GradientBoostedModel) -> Bool {
        a.objective == b.objective && a.outputCount == b.outputCount && a.initialScores == b.initialScores && a.trees == b.trees
            && a.featureKinds == b.featureKinds && a.rounds == b.rounds && a.stopReason == b.stopReason
    }

    public enum StopReason: String, Codable, Sendable {
        case completed, earlyStopping = "early-stopping", deadline, noSplit = "no-split"
    }

    /// Raw scores, row-major: `scores[row * outputCount + k]`. Rows are scored in parallel chunks.
    public func rawScores(_ matrix: FeatureMatrix) throws -> [Double] {
        guard matrix.kinds == featureKinds else {
            throw LearnError.schemaMismatch("the data has \(matrix.featureCount) features of kinds \(matrix.kinds); the model was trained on \(featureKinds.count)")
        }
        let n = matrix.rowCount
        var scores = [Double](repeating: 0, count: n * outputCount)
        for row in 0..<n { for k in 0..<outputCount { scores[row * outputCount + k] = initialScores[k] } }
        scores.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(base: buffer.baseAddress!)
            let chunks = Parallel.chunks(n, minimum: 1024).flatMap { range in
                stride(from: range.lowerBound, to: range.upperBound, by: 4096).map { $0..<min($0 + 4096, range.upperBound) }
            }
            Parallel.forEach(chunks.count) { c in
                packed.addPredictions(matrix, rows: chunks[c], trees: trees.indices, outputs: outputCount, to: out.base, stride: outputCount)
            }
        }
        return scores
    }

    /// Class probabilities (row-major, one per class; both classes for binary) or predicted values.
    public func predict(_ matrix: FeatureMatrix) throws -> [Double] {
        let task: TaskKind = objective == .binary ? .binary : objective == .multiclass ? .multiclass : .regression
        return ScoreLink.apply(try rawScores(matrix), task: task, outputs: outputCount)
    }
}
