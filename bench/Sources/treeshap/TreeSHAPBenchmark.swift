import Foundation
import KeelData
import KeelExplain
import KeelLearn

/// Trains Keel's GBDT on TRAIN (every column but TARGET a numeric feature) and times exact TreeSHAP on the
/// first ROWS rows of EXPLAIN. Prints one JSON line. Threads follow KEEL_THREADS (default: all cores).
///
/// Usage: treeshap TRAIN EXPLAIN TARGET ROUNDS LEAVES LEARNING_RATE ROWS
@main
enum TreeSHAPBenchmark {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 8 else {
            FileHandle.standardError.write(Data("usage: treeshap TRAIN EXPLAIN TARGET ROUNDS LEAVES LEARNING_RATE ROWS\n".utf8))
            exit(2)
        }
        let target = arguments[3]
        let train = try CSVReader.read(path: arguments[1])
        let explain = try CSVReader.read(path: arguments[2])
        let names = train.columnNames.filter { $0 != target }
        let encoder = try FeatureEncoder(frame: train, features: names)
        let task = LearningTask(kind: .binary, classes: ["0", "1"], positiveClass: "1")
        let y = try TargetEncoding(column: train[target]!.converted(to: .categorical), task: task)
        var parameters = GradientBoostingParameters()
        parameters.rounds = Int(arguments[4])!
        parameters.maxLeaves = Int(arguments[5])!
        parameters.learningRate = Double(arguments[6])!
        let started = ContinuousClock.now
        let model = try Learner.gradientBoosting(parameters).fit(try encoder.encode(train), target: y)
        let trainSeconds = seconds(since: started)
        let rows = min(Int(arguments[7])!, explain.rowCount)
        let matrix = try encoder.encode(explain.selecting(rows: Array(0..<rows)))
        let explainStarted = ContinuousClock.now
        let attributions = try ModelExplainer.explain(model, task: .binary, matrix: matrix, names: names)
        let explainSeconds = seconds(since: explainStarted)
        let error = try ModelExplainer.additivityError(attributions, model: model, task: .binary, matrix: matrix)
        print("{\"train_seconds\": \(trainSeconds), \"explain_seconds\": \(explainSeconds), \"rows\": \(rows), \"threads\": \(Parallel.coreCount), \"additivity_error\": \(error)}")
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
