import KeelData
import KeelLearn

/// One fold's data, preprocessed by a pipeline fitted on the fold's training rows only, with an inner
/// split of those rows for early stopping.
struct FoldData {
    let train: FeatureMatrix
    let trainY: TargetEncoding
    let trainWeights: [Double]?
    let valid: FeatureMatrix
    let validY: [Double]
    /// Search-part indices of the validation rows.
    let validRows: [Int]
    let featureNames: [String]
    let stopping: (train: FeatureMatrix, y: TargetEncoding, weights: [Double]?, validation: GradientBoosting.Validation)

    init(_ frame: Frame, schema: Schema, target: TargetEncoding, weights: [Double]?, fold: Fold, seed: UInt64) throws {
        let trainTarget = TargetEncoding(task: target.task, values: fold.train.map { target.values[$0] })
        let (pipeline, x) = try Pipeline.fit(frame.selecting(rows: fold.train), schema: schema, target: trainTarget, options: Search.options(seed))
        train = x
        featureNames = pipeline.featureNames
        trainY = trainTarget
        trainWeights = weights.map { w in fold.train.map { w[$0] } }
        valid = try pipeline.transform(frame.selecting(rows: fold.validation))
        validY = fold.validation.map { target.values[$0] }
        validRows = fold.validation
        let labels: [UInt32]? = target.task.kind == .regression ? nil : trainTarget.values.map { UInt32($0) }
        let inner = try Splits.holdout(rows: fold.train.count, fraction: 0.1, seed: seed &+ 5, stratifyBy: labels)
        let innerY = TargetEncoding(task: target.task, values: inner.train.map { trainTarget.values[$0] })
        let stopY = TargetEncoding(task: target.task, values: inner.validation.map { trainTarget.values[$0] })
        stopping = (x.selecting(rows: inner.train), innerY, trainWeights.map { w in inner.train.map { w[$0] } },
                    GradientBoosting.Validation(features: x.selecting(rows: inner.validation), target: stopY))
    }
}

/// Fits and scores one candidate on every fold, keeping its out-of-fold raw margins for ensemble selection.
struct TrialEvaluator {
    let folds: [FoldData]
    let metric: Metric
    let classCount: Int
    let task: TaskKind
    let searchRows: Int
    let coverFolds: Int

    var outputs: Int { task == .multiclass ? classCount : 1 }
    /// Features after preprocessing.
    var featureCount: Int { folds.first?.train.featureCount ?? 0 }

    mutating func evaluate(_ candidate: Portfolio.Candidate, id: Int, deadline: ContinuousClock.Instant?) -> (TrialResult, [Double]?) {
        var outOfFold = [Double](repeating: .nan, count: searchRows * outputs)
        var scores: [Double] = []
        var fitSeconds = 0.0
        var predictSeconds = 0.0
        var predictedRows = 0
        var rounds: [Int] = []
        var result = TrialResult(id: id, family: candidate.family, summary: candidate.summary, learner: candidate.learner, foldScores: [],
                                 mean: .nan, std: .nan, fitSeconds: 0, predictMillisecondsPer1000: 0, bestRounds: [], status: .completed)
        for (index, fold) in folds.enumerated() {
            let start = ContinuousClock.now
            do {
                let model: FittedModel
                if case .gradientBoosting = candidate.learner {
                    model = try candidate.learner.fit(fold.stopping.train, target: fold.stopping.y, weights: fold.stopping.weights,
                                                      validation: fold.stopping.validation, deadline: deadline)
                    if case .gradientBoosting(let boosted) = model {
                        rounds.append(boosted.rounds)
                        if boosted.stopReason == .deadline { result.status = .stopped }
                    }
                } else {
                    model = try candidate.learner.fit(fold.train, target: fold.trainY, weights: fold.trainWeights, deadline: deadline)
                }
                fitSeconds += (ContinuousClock.now - start).seconds
                if let deadline, ContinuousClock.now > deadline { result.status = .stopped }
                if result.status == .stopped { break }
                let predictStart = ContinuousClock.now
                let raw = try model.rawScores(fold.valid, task: task)
                let predictions = ScoreLink.apply(raw, task: task, outputs: outputs)
                predictSeconds += (ContinuousClock.now - predictStart).seconds
                if index < coverFolds {
                    for (i, row) in fold.validRows.enumerated() { for k in 0..<outputs { outOfFold[row * outputs + k] = raw[i * outputs + k] } }
                }
                predictedRows += fold.valid.rowCount
                scores.append(try metric.evaluate(truth: fold.validY, predictions: predictions, classCount: classCount))
            } catch {
                result.status = .failed
                result.message = "\(error)"
                break
            }
        }
        guard result.status == .completed, !scores.isEmpty else {
            result.message = result.message ?? "stopped at the search deadline"
            return (result, nil)
        }
        let mean = scores.reduce(0, +) / Double(scores.count)
        let variance = scores.count > 1 ? scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(scores.count - 1) : 0
        result.foldScores = scores
        result.mean = mean
        result.std = variance.squareRoot()
        result.fitSeconds = fitSeconds / Double(scores.count)
        result.predictMillisecondsPer1000 = predictedRows > 0 ? predictSeconds / Double(predictedRows) * 1e6 : 0
        result.bestRounds = rounds
        return (result, outOfFold)
    }
}
