import Foundation
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
    let stopping: (train: FeatureMatrix, y: TargetEncoding, weights: [Double]?, validation: ValidationRows)
    /// The preprocessing fitted on the fold's training rows: with a fold's model, a complete model of its own.
    let pipeline: Pipeline
    /// The training rows binned once per bin count, shared by every trial that bins.
    let bins: FoldBins

    init(_ frame: Frame, schema: Schema, target: TargetEncoding, weights: [Double]?, fold: Fold, options: PipelineOptions) throws {
        let trainTarget = TargetEncoding(task: target.task, values: fold.train.map { target.values[$0] })
        let (pipeline, x) = try Pipeline.fit(frame.selecting(rows: fold.train), schema: schema, target: trainTarget, options: options)
        self.pipeline = pipeline
        bins = FoldBins(seed: SeedStream(options.seed).seed("binning"))
        train = x
        featureNames = pipeline.featureNames
        trainY = trainTarget
        trainWeights = weights.map { w in fold.train.map { w[$0] } }
        valid = try pipeline.transform(frame.selecting(rows: fold.validation))
        validY = fold.validation.map { target.values[$0] }
        validRows = fold.validation
        let labels: [UInt32]? = target.task.kind == .regression ? nil : trainTarget.values.map { UInt32($0) }
        let inner = try Splits.holdout(rows: fold.train.count, fraction: 0.1, seed: SeedStream(options.seed).seed("early-stopping.split"), stratifyBy: labels)
        let innerY = TargetEncoding(task: target.task, values: inner.train.map { trainTarget.values[$0] })
        let stopY = TargetEncoding(task: target.task, values: inner.validation.map { trainTarget.values[$0] })
        stopping = (x.selecting(rows: inner.train), innerY, trainWeights.map { w in inner.train.map { w[$0] } },
                    ValidationRows(features: x.selecting(rows: inner.validation), target: stopY))
    }
}

/// A fold's training rows (all of them, or those left after the early-stopping split) binned on first use
/// for a bin count and kept for the fold's later trials: as LightGBM constructs a `Dataset` once and trains
/// many boosters on it, a fold is binned once, not once per trial.
final class FoldBins: @unchecked Sendable {
    enum Rows: Hashable { case all, stopping }
    private struct Key: Hashable { var rows: Rows; var maxBins: Int }

    /// Rows above `BinnedMatrix`'s sample size are sampled from this seed to place the bin bounds.
    let seed: UInt64
    private let lock = NSLock()
    private var made: [Key: BinnedMatrix] = [:]

    init(seed: UInt64) { self.seed = seed }

    func binned(_ rows: Rows, of matrix: FeatureMatrix, maxBins: Int) -> BinnedMatrix {
        lock.lock()
        defer { lock.unlock() }
        let key = Key(rows: rows, maxBins: maxBins)
        if let found = made[key] { return found }
        let binned = BinnedMatrix(matrix, maxBins: maxBins, seed: seed)
        // Kept for later trials only while the row set has fewer than `keptBinCounts` bin counts, the bound
        // the memory budget counts; a further count (pinned `max_bins`) bins per trial as before.
        if made.keys.filter({ $0.rows == rows }).count < Self.keptBinCounts { made[key] = binned }
        return binned
    }

    /// How many binned matrices are kept (for tests).
    var keptCount: Int { lock.withLock { made.count } }

    /// Bin counts kept per row set: boosting's and forests' defaults.
    static let keptBinCounts = 2

    /// Bytes the binned copies can take at most: two row sets, `keptBinCounts` bin counts each, each stored
    /// row-major and column-major, one byte a cell.
    static func bytes(trainCells: Int, stoppingCells: Int) -> Int { (trainCells + stoppingCells) * keptBinCounts * 2 }
}

/// Fits and scores one candidate on every fold, keeping its out-of-fold raw margins for ensemble selection.
///
/// Folds run two at a time when the machine has the cores and the memory for it: on small folds a learner
/// keeps one core busy at best, so fold-level parallelism is what uses both. After each batch, a trial that
/// is clearly behind the leader on the same folds is pruned (successive halving over folds), so the time
/// goes to configurations that can still win. Both rules depend only on scores, never on the clock, so a
/// run with a fixed trial count stays reproducible.
struct TrialEvaluator {
    let folds: [FoldData]
    let metric: Metric
    let classCount: Int
    let task: TaskKind
    let searchRows: Int
    let coverFolds: Int
    /// Folds fitted at once (1 or 2).
    var parallelFolds = 1

    /// A trial is pruned when its error on the folds so far exceeds the leader's on the same folds by more
    /// than this share (error: the loss itself, or 1 − score for scores bounded by 1), and by more than half
    /// the standard error of the leader's mean over that many folds: on noisy folds (few positives, tiny
    /// data) a small gap says nothing.
    static let pruningMargin = 0.03

    var outputs: Int { task == .multiclass ? classCount : 1 }
    /// Features after preprocessing.
    var featureCount: Int { folds.first?.train.featureCount ?? 0 }

    /// What one fold gave: its score, fit and predict times, raw validation margins and boosting rounds.
    private struct FoldOutcome {
        var score = Double.nan
        var fitSeconds = 0.0
        var predictSeconds = 0.0
        var raw: [Double] = []
        var rounds: Int?
        var stopped = false
        var error: String?
        var storedValues = 0
        /// Seconds to encode the model as an artefact does, when asked for.
        var encodeSeconds: Double?
        /// The first fold's model, kept for when the refit on all search rows cannot finish.
        var model: FittedModel?
    }

    /// What one trial gave: its result, out-of-fold margins, the first fold's model and encoding time.
    struct Evaluation {
        var result: TrialResult
        var outOfFold: [Double]?
        var encodeSeconds: Double?
        var firstFoldModel: FittedModel?
    }

    /// Models smaller than this encode too fast for their time to say anything about larger ones.
    static let encodingProbeValues = 10_000

    /// The trial's result, its out-of-fold margins, its first fold's model, and with `measureEncoding` the
    /// seconds that model took to encode (when it stores at least `encodingProbeValues` numbers).
    func evaluate(_ trial: TrialSpec.Trial, deadline: ContinuousClock.Instant?, measureEncoding: Bool = false) -> Evaluation {
        var outcomes: [FoldOutcome] = []
        var result = TrialResult(id: trial.id, family: trial.family, summary: trial.summary, learner: trial.learner, foldScores: [],
                                 mean: .nan, std: .nan, fitSeconds: 0, predictMillisecondsPer1000: 0, bestRounds: [], status: .completed)
        result.seedPurpose = trial.seedPurpose
        let leader = trial.pruneAgainst
        var next = 0
        while next < folds.count {
            let batch = Array(next..<min(next + parallelFolds, folds.count))
            var done = [FoldOutcome](repeating: FoldOutcome(), count: batch.count)
            done.withUnsafeMutableBufferPointer { slots in
                let shared = SharedBuffer(base: slots.baseAddress!)
                Parallel.forEach(batch.count) { i in
                    shared[i] = fit(trial.learner, fold: folds[batch[i]], deadline: deadline, first: batch[i] == 0, measureEncoding: measureEncoding)
                }
            }
            outcomes += done
            next += batch.count
            if let failure = done.first(where: { $0.error != nil }) {
                result.status = .failed
                result.message = failure.error
                break
            }
            if done.contains(where: \.stopped) {
                result.status = .stopped
                break
            }
            if next < folds.count, let verdict = pruning(outcomes.map(\.score), leader: leader) {
                result.status = .pruned
                result.message = verdict
                break
            }
        }
        let scores = outcomes.map(\.score)
        guard result.status == .completed, !scores.isEmpty else {
            if result.status == .pruned { result.foldScores = scores }
            result.message = result.message ?? "stopped at the search deadline"
            return Evaluation(result: result)
        }
        var outOfFold = [Double](repeating: .nan, count: searchRows * outputs)
        for (index, outcome) in outcomes.enumerated() where index < coverFolds {
            for (i, row) in folds[index].validRows.enumerated() { for k in 0..<outputs { outOfFold[row * outputs + k] = outcome.raw[i * outputs + k] } }
        }
        let mean = scores.reduce(0, +) / Double(scores.count)
        let variance = scores.count > 1 ? scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(scores.count - 1) : 0
        let predictedRows = folds.map(\.valid.rowCount).reduce(0, +)
        result.foldScores = scores
        result.mean = mean
        result.std = variance.squareRoot()
        result.fitSeconds = outcomes.map(\.fitSeconds).reduce(0, +) / Double(scores.count)
        result.predictMillisecondsPer1000 = predictedRows > 0 ? outcomes.map(\.predictSeconds).reduce(0, +) / Double(predictedRows) * 1e6 : 0
        result.bestRounds = outcomes.compactMap(\.rounds)
        result.storedValues = outcomes[0].storedValues
        return Evaluation(result: result, outOfFold: outOfFold, encodeSeconds: outcomes[0].encodeSeconds, firstFoldModel: outcomes[0].model)
    }

    /// Why the trial should stop here, or nil: its error on the folds done is more than `pruningMargin` and
    /// more than the noise allowance above the leader's on the same folds.
    func pruning(_ scores: [Double], leader: TrialResult?) -> String? {
        guard let leader, leader.foldScores.count >= scores.count, scores.count >= 2 else { return nil }
        let mine = scores.reduce(0, +) / Double(scores.count)
        let theirs = leader.foldScores.prefix(scores.count).reduce(0, +) / Double(scores.count)
        let noise = 0.5 * leader.std / Double(scores.count).squareRoot()
        let (a, b) = (metric.error(mine), metric.error(theirs))
        guard a > b * (1 + Self.pruningMargin) + 1e-12, a > b + noise else { return nil }
        return "pruned after \(scores.count) of \(folds.count) folds: \(metric.rawValue) \(Search.format(mine)) against \(Search.format(theirs)) for trial \(leader.id) on the same folds"
    }

    private func fit(_ learner: Learner, fold: FoldData, deadline: ContinuousClock.Instant?, first: Bool, measureEncoding: Bool) -> FoldOutcome {
        var outcome = FoldOutcome()
        let start = ContinuousClock.now
        do {
            let model: FittedModel
            // Boosting that stops early does so on an inner split of the fold's training rows; with set
            // rounds it trains on all of them.
            let family = learner.family
            let earlyStopping = family.stopsEarly(learner)
            let rows = earlyStopping ? fold.stopping.train : fold.train
            let binned = family.binCount(learner).map { fold.bins.binned(earlyStopping ? .stopping : .all, of: rows, maxBins: $0) }
            if earlyStopping {
                model = try family.fit(learner, data: TrainingData(features: rows, target: fold.stopping.y, weights: fold.stopping.weights, binned: binned),
                                       context: FitContext(deadline: deadline, validation: fold.stopping.validation))
            } else {
                model = try family.fit(learner, data: TrainingData(features: rows, target: fold.trainY, weights: fold.trainWeights, binned: binned),
                                       context: FitContext(deadline: deadline))
            }
            if earlyStopping { outcome.rounds = model.boostingRounds }
            if model.stoppedAtDeadline { outcome.stopped = true }
            outcome.fitSeconds = (ContinuousClock.now - start).seconds
            if let deadline, ContinuousClock.now > deadline { outcome.stopped = true }
            if outcome.stopped { return outcome }
            let predictStart = ContinuousClock.now
            outcome.raw = try model.rawScores(fold.valid, task: task)
            let predictions = ScoreLink.apply(outcome.raw, task: task, outputs: outputs)
            outcome.predictSeconds = (ContinuousClock.now - predictStart).seconds
            outcome.score = try metric.evaluate(truth: fold.validY, predictions: predictions, classCount: classCount)
            outcome.storedValues = model.storedValues
            if first { outcome.model = model }
            if first, measureEncoding, outcome.storedValues >= Self.encodingProbeValues {
                let encodeStart = ContinuousClock.now
                _ = try? Search.modelEncoder().encode(model)
                outcome.encodeSeconds = (ContinuousClock.now - encodeStart).seconds
            }
        } catch {
            outcome.error = "\(error)"
        }
        return outcome
    }
}
