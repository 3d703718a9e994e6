import Foundation
import KeelData
import KeelLearn

/// Trains Keel's GBDT on TRAIN, scores TEST, and prints one JSON line: train seconds, prediction rows per
/// second, holdout metric and peak memory. TRAIN and TEST are CSV files (every column but the target is a
/// feature, typed as read: strings categorical, dates as seconds) or raw files `NAME.f64` holding row-major
/// float64 features with a first value giving the column count, and `NAME.y.f64` the binary labels.
///
/// Usage: gbdt-train TRAIN TEST TARGET ROUNDS LEAVES LEARNING_RATE MAX_BINS
@main
enum GBDTBenchmark {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 8 else {
            FileHandle.standardError.write(Data("usage: gbdt-train TRAIN TEST TARGET ROUNDS LEAVES LEARNING_RATE MAX_BINS\n".utf8))
            exit(2)
        }
        let (trainX, trainY, testX, testY) = try arguments[1].hasSuffix(".f64")
            ? (raw(arguments[1]).0, raw(arguments[1]).1, raw(arguments[2]).0, raw(arguments[2]).1)
            : csv(arguments[1], arguments[2], target: arguments[3])
        let task = trainY.task
        let testRows = testX.rowCount

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
        print("{\"train_seconds\": \(trainSeconds), \"predict_rows_per_second\": \(Double(testRows) / predictSeconds), \"metric\": \"\(metric.rawValue)\", \"score\": \(score), \"peak_mb\": \(Double(usage.ru_maxrss) / 1024), \"trees\": \(model.trees.count)}")
    }

    static func csv(_ trainPath: String, _ testPath: String, target: String) throws -> (FeatureMatrix, TargetEncoding, FeatureMatrix, TargetEncoding) {
        let train = try CSVReader.read(path: trainPath)
        let test = try CSVReader.read(path: testPath)
        let task = try SchemaInference.infer(train, target: target).schema.task!
        let encoder = try FeatureEncoder(frame: train, features: train.columnNames.filter { $0 != target })
        let storage: ColumnKind = task.kind == .regression ? .numeric : .categorical
        return (try encoder.encode(train), try TargetEncoding(column: train[target]!.converted(to: storage), task: task),
                try encoder.encode(test), try TargetEncoding(column: test[target]!.converted(to: storage), task: task))
    }

    /// Streams a raw file into a column-major matrix, one row-major chunk at a time (no whole-file copy).
    static func raw(_ path: String) throws -> (FeatureMatrix, TargetEncoding) {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let columns = Int(try handle.read(upToCount: 8)!.withUnsafeBytes { $0.loadUnaligned(as: Double.self) })
        let rows = (Int(size) / 8 - 1) / columns
        var values = [Double](repeating: 0, count: rows * columns)
        var row = 0
        while row < rows {
            let take = min(65_536, rows - row)
            let chunk = try handle.read(upToCount: take * columns * 8)!
            chunk.withUnsafeBytes { bytes in
                for r in 0..<take {
                    for c in 0..<columns {
                        values[c * rows + row + r] = bytes.loadUnaligned(fromByteOffset: (r * columns + c) * 8, as: Double.self)
                    }
                }
            }
            row += take
        }
        let labels = try Data(contentsOf: URL(fileURLWithPath: path.replacingOccurrences(of: ".f64", with: ".y.f64")))
            .withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        return (FeatureMatrix(rowCount: rows, kinds: Array(repeating: .numeric, count: columns), values: values),
                TargetEncoding(task: LearningTask(kind: .binary, classes: ["0", "1"], positiveClass: "1"), values: labels))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let (whole, fraction) = (ContinuousClock.now - start).components
        return Double(whole) + Double(fraction) / 1e18
    }
}
