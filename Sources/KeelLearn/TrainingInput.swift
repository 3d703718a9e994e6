import KeelData
#if canImport(Glibc)
import Glibc
#endif

/// Checks every learner makes before fitting, so bad input is one clear error, never a trap or a NaN model.
enum TrainingInput {
    static func check(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]?) throws {
        guard features.rowCount > 0 else { throw LearnError.invalidData("there are no rows to train on") }
        guard features.featureCount > 0 else { throw LearnError.invalidData("there are no features to train on") }
        guard target.values.count == features.rowCount else {
            throw LearnError.invalidData("\(target.values.count) target values for \(features.rowCount) rows")
        }
        if target.task.kind != .regression, Set(target.values).count < 2 {
            throw LearnError.invalidTarget("the target has a single class; a classifier needs at least two")
        }
        if let weights {
            guard weights.count == features.rowCount else { throw LearnError.invalidData("\(weights.count) weights for \(features.rowCount) rows") }
            if let row = weights.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
                throw LearnError.invalidData("weight at row \(row + 1) is \(weights[row]); weights must be finite and not negative")
            }
            guard weights.contains(where: { $0 > 0 }) else { throw LearnError.invalidData("all weights are zero") }
        }
    }
}

/// From raw scores to what users get: probabilities through the logistic (binary, both classes) or the
/// softmax (multiclass), values unchanged for regression. Row-major in and out.
public enum ScoreLink {
    public static func apply(_ raw: [Double], task: TaskKind, outputs: Int) -> [Double] {
        switch task {
        case .regression:
            return raw
        case .binary:
            return raw.flatMap { score -> [Double] in
                let p = 1 / (1 + exp(-score))
                return [1 - p, p]
            }
        case .multiclass:
            var probabilities = raw
            for row in 0..<(raw.count / outputs) {
                let range = (row * outputs)..<((row + 1) * outputs)
                let maximum = raw[range].max()!
                var sum = 0.0
                for i in range { sum += exp(raw[i] - maximum) }
                for i in range { probabilities[i] = exp(raw[i] - maximum) / sum }
            }
            return probabilities
        }
    }
}

