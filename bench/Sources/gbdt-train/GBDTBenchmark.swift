import Foundation
import KeelData
import KeelLearn

/// Trains Keel's GBDT on TRAIN.csv, scores TEST.csv, and prints one JSON line: train seconds, prediction
/// rows per second, holdout metric and peak memory. Every column but the target is a feature, typed as read
/// (strings categorical, dates as seconds), which is what the LightGBM side of bench/gbdt.sh is given too.
///
/// Usage: gbdt-train TRAIN.csv TEST.csv TARGET ROUNDS LEAVES LEARNING_RATE MAX_BINS
@main
enum GBDTBenchmark {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 8 else {
            FileHandle.standardError.write(Data("usage: gbdt-train TRAIN TEST TARGET ROUNDS LEAVES LEARNING_RATE MAX_BINS\n".utf8))
            exit(2)
        }
        let train = try CSVReader.read(path: arguments[1])
        let test = try CSVReader.read(path: arguments[2])
        let targetName = arguments[3]
        let schema = try SchemaInference.infer(train, target: targetName).schema
        let task = schema.task!
        let features = train.columnNames.filter { $0 != targetName }
        let encoder = try FeatureEncoder(frame: train, features: features)
        let trainX = try encoder.encode(train)
        let testX = try encoder.encode(test)
        let trainY = try TargetEncoding(column: train[targetName]!.converted(to: task.kind == .regression ? .numeric : .categorical), task: task)
        let testY = try TargetEncoding(column: test[targetName]!.converted(to: task.kind == .regression ? .numeric : .categorical), task: task)

        var parameters = GradientBoostingParameters()
        parameters.rounds = Int(arguments[4])!
        parameters.maxLeaves = Int(arguments[5])!
        parameters.learningRate = Double(arguments[6])!
        parameters.maxBins = Int(arguments[7])!
        let started = ContinuousClock.now
        let model = try GradientBoosting(parameters: parameters).fit(trainX, target: trainY)
        let trainSeconds = seconds(since: started)
        let predictStarted = ContinuousClock.now
        let predictions = try model.predict(testX)
        let predictSeconds = seconds(since: predictStarted)
        let metric = Metric.defaultFor(task.kind)
        let score = try metric.evaluate(truth: testY.values, predictions: predictions, classCount: trainY.classCount)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("{\"train_seconds\": \(trainSeconds), \"predict_rows_per_second\": \(Double(test.rowCount) / predictSeconds), \"metric\": \"\(metric.rawValue)\", \"score\": \(score), \"peak_mb\": \(Double(usage.ru_maxrss) / 1024), \"trees\": \(model.trees.count)}")
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let (whole, fraction) = (ContinuousClock.now - start).components
        return Double(whole) + Double(fraction) / 1e18
    }
}
