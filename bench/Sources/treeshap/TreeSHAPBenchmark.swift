import Foundation
import KeelData
import KeelExplain
import KeelLearn

/// Trains a Keel model on TRAIN (every column but TARGET a numeric feature) and times exact TreeSHAP on the
/// first ROWS rows of EXPLAIN. Prints one JSON line. Threads follow KEEL_THREADS (default: all cores).
///
/// Usage: treeshap TRAIN EXPLAIN TARGET MODEL ROWS
///   MODEL: gbdt:ROUNDS:LEAVES:LEARNING_RATE (boosting) or forest:TREES:MAX_DEPTH (a random forest, √p
///   features a split, bootstrap samples, leaves of one row, as scikit-learn's defaults)
@main
enum TreeSHAPBenchmark {
    static func main() throws {
        let arguments = CommandLine.arguments
        let spec = arguments.count == 6 ? arguments[4].split(separator: ":").map(String.init) : []
        guard spec.count == 4 && spec[0] == "gbdt" || spec.count == 3 && spec[0] == "forest" else {
            FileHandle.standardError.write(Data("usage: treeshap TRAIN EXPLAIN TARGET gbdt:ROUNDS:LEAVES:RATE|forest:TREES:DEPTH ROWS\n".utf8))
            exit(2)
        }
        let target = arguments[3]
        let train = try CSVReader.read(path: arguments[1])
        let explain = try CSVReader.read(path: arguments[2])
        let names = train.columnNames.filter { $0 != target }
        let encoder = try FeatureEncoder(frame: train, features: names)
        let task = LearningTask(kind: .binary, classes: ["0", "1"], positiveClass: "1")
        let y = try TargetEncoding(column: train[target]!.converted(to: .categorical), task: task)
        let learner: Learner
        if spec[0] == "gbdt" {
            var parameters = GradientBoostingParameters()
            parameters.rounds = Int(spec[1])!
            parameters.maxLeaves = Int(spec[2])!
            parameters.learningRate = Double(spec[3])!
            learner = .gradientBoosting(parameters)
        } else {
            var parameters = ForestParameters()
            parameters.trees = Int(spec[1])!
            parameters.maxDepth = Int(spec[2])!
            parameters.seed = 7
            learner = .randomForest(parameters)
        }
        let started = ContinuousClock.now
        let model = try learner.fit(try encoder.encode(train), target: y)
        let trainSeconds = seconds(since: started)
        let rows = min(Int(arguments[5])!, explain.rowCount)
        let matrix = try encoder.encode(explain.selecting(rows: Array(0..<rows)))
        let explainStarted = ContinuousClock.now
        let attributions = try ModelExplainer.explain(model, task: .binary, matrix: matrix, names: names)
        let explainSeconds = seconds(since: explainStarted)
        let error = try ModelExplainer.additivityError(attributions, model: model, task: .binary, matrix: matrix)
        let trees: [Tree] = switch model { case .gradientBoosting(let m): m.trees; case .forest(let m): m.trees; default: [] }
        let meanLeaves = Double(trees.reduce(0) { $0 + $1.leafCount }) / Double(max(trees.count, 1))
        print("{\"train_seconds\": \(trainSeconds), \"explain_seconds\": \(explainSeconds), \"rows\": \(rows), \"threads\": \(Parallel.coreCount), \"mean_leaves\": \(meanLeaves), \"additivity_error\": \(error)}")
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
