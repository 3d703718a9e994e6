import KeelData
import KeelLearn

/// Permutation importance (`FeatureImportance`) for every model kind, ensembles included.
public enum PermutationImportance {
    /// Shuffles each feature column `repeats` times; nil when the deadline passes first.
    public static func compute(model: TrainedModel, frame: Frame, truth: [Double], repeats: Int, seed: UInt64,
                        deadline: ContinuousClock.Instant?) throws -> [FeatureImportance]? {
        if let deadline, ContinuousClock.now > deadline { return nil }
        let metric = model.provenance.metric
        let classCount = model.schema.task?.classes?.count ?? 0
        let baseline = try metric.evaluate(truth: truth, predictions: model.predictor.outputs(frame), classCount: classCount)
        var generator = SeededGenerator(seed: seed)
        var results: [FeatureImportance] = []
        for name in model.schema.featureNames where frame[name] != nil {
            var drops: [Double] = []
            for _ in 0..<repeats {
                if let deadline, ContinuousClock.now > deadline { return nil }
                var order = Array(0..<frame.rowCount)
                generator.shuffle(&order)
                var shuffled = frame
                try shuffled.replace(frame[name]!.selecting(order))
                let score = try metric.evaluate(truth: truth, predictions: model.predictor.outputs(shuffled), classCount: classCount)
                drops.append(metric.higherIsBetter ? baseline - score : score - baseline)
            }
            let mean = drops.reduce(0, +) / Double(drops.count)
            let variance = drops.count > 1 ? drops.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(drops.count - 1) : 0
            results.append(FeatureImportance(column: name, importance: mean, std: variance.squareRoot()))
        }
        return results.sorted { $0.importance != $1.importance ? $0.importance > $1.importance : $0.column < $1.column }
    }
}
