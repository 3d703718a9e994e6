import Foundation
import KeelData
import KeelLearn

/// Keel's side of a cross-check against a peer library: the peer's script writes the benchmark protocol's
/// split into a folder as train.csv and test.csv, and both sides fit and score on exactly those rows.
public enum PeerSplit {
    /// Gradient boosting with `parameters` fitted on train.csv and scored on test.csv by the task's default metric.
    public static func boostedScore(target: String, folder: URL, parameters: GradientBoostingParameters) throws -> Double {
        let train = try CSVReader.read(path: folder.appendingPathComponent("train.csv").path)
        let test = try CSVReader.read(path: folder.appendingPathComponent("test.csv").path)
        guard let task = try SchemaInference.infer(train, target: target).schema.task else {
            throw LearnError.invalidTarget("no task could be inferred for '\(target)'")
        }
        let encoder = try FeatureEncoder(frame: train, features: train.columnNames.filter { $0 != target })
        let storage: ColumnKind = task.kind == .regression ? .numeric : .categorical
        let y = try TargetEncoding(column: train[target]!.converted(to: storage), task: task)
        let yt = try TargetEncoding(column: test[target]!.converted(to: storage), task: task)
        let model = try GradientBoosting(parameters: parameters).fit(encoder.encode(train), target: y)
        return try Metric.defaultFor(task.kind).evaluate(truth: yt.values, predictions: model.predict(encoder.encode(test)), classCount: y.classCount)
    }
}
