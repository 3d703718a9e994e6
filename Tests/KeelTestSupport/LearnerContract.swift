import Foundation
import KeelData
import KeelLearn

/// What every learner family must do, checked the same way for each (Keel's own and any a test defines):
/// each check returns what it found wrong, so one run reports every broken promise of every family.
///
/// The configurations checked are the family's own portfolio entries for small data, seeded, and a heavy
/// one for the deadline: each hyperparameter whose low-cost value lies below its default pinned at the top
/// of its domain (more rounds, trees, leaves, bags).
public enum LearnerContract {
    /// The data the contract fits: `SyntheticTable` (numeric features, missing values whose missingness
    /// carries signal, a 12-level categorical) plus a constant feature.
    public struct Data: Sendable {
        public let features: FeatureMatrix
        public let target: TargetEncoding
        public let task: TaskKind

        public init(task: TaskKind, rows: Int = 600, seed: UInt64 = 11) {
            let table = SyntheticTable(rows: rows, seed: seed)
            var values = table.features.values
            values += [Double](repeating: 3.5, count: rows)
            features = FeatureMatrix(rowCount: rows, kinds: table.features.kinds + [.numeric], values: values)
            target = switch task {
            case .binary: table.binaryTarget(seed: seed &+ 1)
            case .regression: table.regressionTarget(seed: seed &+ 1)
            case .multiclass: table.multiclassTarget()
            }
            self.task = task
        }

        public var outputs: Int { task == .multiclass ? target.classCount : 1 }
        public var shape: DataShape { DataShape(rows: features.rowCount, features: features.featureCount, task: task, outputs: outputs) }
    }

    /// The first and the last of the family's portfolio entries for `data` (its cheapest and, usually, its
    /// most different), each seeded with `seed`. The invariant suite fits every entry; this checks promises
    /// that hold per family.
    public static func configurations(_ family: any LearnerFamily, data: Data, seed: UInt64 = 5) -> [Learner] {
        let entries = family.portfolio(for: data.shape).map { family.seeded($0.learner, seed) }
        guard let first = entries.first, let last = entries.last else { return [] }
        return first == last ? [first] : [first, last]
    }

    /// A configuration that would take long without a deadline.
    public static func heavy(_ family: any LearnerFamily, data: Data) -> Learner? {
        guard let base = family.portfolio(for: data.shape).first?.learner else { return nil }
        var pins: [String: Double] = [:]
        for parameter in family.space where family.pinnableNames.contains(parameter.name) {
            guard let cheap = parameter.lowCost, cheap < parameter.initial else { continue }
            switch parameter.domain {
            case .integer(_, let upper): pins[parameter.name] = Double(upper)
            case .real(_, let upper, _): pins[parameter.name] = upper
            case .choice(let values): pins[parameter.name] = values.max() ?? parameter.initial
            }
        }
        return family.pinning(base, to: pins)
    }

    /// Every violation of the contract by `family` on `data`.
    public static func violations(_ family: any LearnerFamily, data: Data) -> [String] {
        var problems: [String] = []
        let name = "\(family.name) (\(data.task))"
        let configurations = configurations(family, data: data)
        if configurations.isEmpty { problems.append("\(name): no portfolio entry for \(data.features.rowCount) rows") }
        for learner in configurations {
            problems += check(family, learner, data: data, label: "\(name) \(family.describe(learner))")
        }
        problems += deadline(family, data: data, label: name)
        problems += space(family, data: data, label: name)
        return problems
    }

    static func check(_ family: any LearnerFamily, _ learner: Learner, data: Data, label: String) -> [String] {
        var problems: [String] = []
        func fit(_ learner: Learner, weights: [Double]? = nil, threads: Int? = nil) throws -> FittedModel {
            try Parallel.$threadLimit.withValue(threads) {
                try family.fit(learner, data: TrainingData(features: data.features, target: data.target, weights: weights), context: FitContext())
            }
        }
        do {
            guard family.owns(learner) else { return ["\(label): the family does not own its own portfolio entry"] }
            let model = try fit(learner)
            let predictions = try model.predict(data.features)
            let width = data.task == .regression ? 1 : data.target.classCount
            if predictions.count != data.features.rowCount * width { problems.append("\(label): \(predictions.count) predictions for \(data.features.rowCount) rows × \(width)") }
            if let bad = predictions.firstIndex(where: { !$0.isFinite }) { problems.append("\(label): prediction \(bad) is \(predictions[bad])") }
            // Missing values and a categorical level never seen in training still score.
            var unseen = data.features.selecting(rows: [0, 1])
            for f in 0..<unseen.featureCount { unseen.values[f * 2] = .nan }
            unseen.values[3 * 2 + 1] = 99
            if try model.predict(unseen).contains(where: { !$0.isFinite }) { problems.append("\(label): a row of missing values or an unseen level scores non-finite") }
            // Deterministic for a seed.
            if try fit(learner).predict(data.features) != predictions { problems.append("\(label): two fits with one seed predict differently") }
            // One thread or two: the same model.
            if try fit(learner, threads: 1).predict(data.features) != predictions { problems.append("\(label): one thread predicts differently from the default") }
            if try fit(learner, threads: 3).predict(data.features) != predictions { problems.append("\(label): three threads predict differently from the default") }
            // Bins made beforehand (as the search makes them once per fold) give the model binning itself gives.
            if let bins = family.binCount(learner) {
                let binned = BinnedMatrix(data.features, maxBins: bins)
                let prebinned = try family.fit(learner, data: TrainingData(features: data.features, target: data.target, binned: binned), context: FitContext())
                if try prebinned.predict(data.features) != predictions { problems.append("\(label): a fit on bins made beforehand predicts differently") }
            }
            // Unit weights are no weights; other weights are honoured.
            let ones = [Double](repeating: 1, count: data.features.rowCount)
            if try fit(learner, weights: ones).predict(data.features) != predictions { problems.append("\(label): unit weights change the model") }
            let skewed = (0..<data.features.rowCount).map { $0 % 3 == 0 ? 4.0 : 0.5 }
            let weighted = try fit(learner, weights: skewed).predict(data.features)
            if weighted == predictions { problems.append("\(label): weights are ignored") }
            if weighted.contains(where: { !$0.isFinite }) { problems.append("\(label): weighted predictions are not finite") }
            // Each row scores alone as it does in a batch: no prediction depends on the other rows scored.
            for row in [0, 7, data.features.rowCount - 1] {
                let alone = try model.predict(data.features.selecting(rows: [row]))
                let inBatch = (0..<width).map { predictions[row * width + $0] }
                if alone != inBatch { problems.append("\(label): row \(row) scores \(alone) alone and \(inBatch) in a batch") }
            }
            problems += columnOrder(family, learner, data: data, predictions: predictions, label: label)
            // Zero rows to score.
            let none = try model.predict(data.features.selecting(rows: []))
            if !none.isEmpty { problems.append("\(label): \(none.count) predictions for zero rows") }
            // Saved and read back, the same predictions (families defined outside Keel cannot be saved).
            if case .external = learner {} else {
                let encoder = JSONEncoder()
                encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                let decoder = JSONDecoder()
                decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                let read = try decoder.decode(FittedModel.self, from: encoder.encode(model))
                if try read.predict(data.features) != predictions { problems.append("\(label): the model read back predicts differently") }
                let config = try decoder.decode(Learner.self, from: encoder.encode(learner))
                if config != learner { problems.append("\(label): the configuration read back differs") }
            }
        } catch {
            problems.append("\(label): \(error)")
        }
        // A class with one row: a model or a clear error, never a trap.
        if data.task != .regression {
            var values = data.target.values
            let last = Double(data.target.classCount - 1)
            for i in values.indices where values[i] == last { values[i] = 0 }
            values[values.count - 1] = last
            let rare = TargetEncoding(task: data.target.task, values: values)
            do {
                let model = try family.fit(learner, data: TrainingData(features: data.features, target: rare), context: FitContext())
                if try model.predict(data.features).contains(where: { !$0.isFinite }) { problems.append("\(label): one row of a class gives non-finite predictions") }
            } catch let error as LearnError {
                if "\(error)".count < 20 { problems.append("\(label): one row of a class fails without a message that says why: \(error)") }
            } catch {
                problems.append("\(label): one row of a class fails with \(error), not a LearnError")
            }
        }
        return problems
    }

    /// Column order does not matter: fitted on the columns reversed (and scored so), the model says nearly
    /// what it said before. Not identical for every family: column sampling draws other columns, ties between
    /// equal gains go to the lower index and an EBM boosts its features in turn; so the predictions may move
    /// by a tenth of their own spread, or by twice what another seed moves them (a learner that misreads a
    /// column's kind or drops a position moves them by far more).
    static func columnOrder(_ family: any LearnerFamily, _ learner: Learner, data: Data, predictions: [Double], label: String) -> [String] {
        let features = data.features
        let n = features.rowCount
        let order = Array((0..<features.featureCount).reversed())
        var values: [Double] = []
        values.reserveCapacity(features.values.count)
        for f in order { values += features.values[f * n ..< (f + 1) * n] }
        let reversed = FeatureMatrix(rowCount: n, kinds: order.map { features.kinds[$0] }, values: values)
        do {
            let model = try family.fit(learner, data: TrainingData(features: reversed, target: data.target), context: FitContext())
            let other = try model.predict(reversed)
            guard other.count == predictions.count else { return ["\(label): \(other.count) predictions with the columns reversed, \(predictions.count) before"] }
            func rms(_ a: [Double], _ b: [Double]) -> Double {
                (zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(max(a.count, 1))).squareRoot()
            }
            let mean = predictions.reduce(0, +) / Double(predictions.count)
            let spread = rms(predictions, [Double](repeating: mean, count: predictions.count))
            let reseeded = try family.fit(family.seeded(learner, 99), data: TrainingData(features: features, target: data.target), context: FitContext())
            let bySeed = rms(predictions, try reseeded.predict(features))
            let moved = rms(predictions, other)
            if !(moved <= max(0.1 * spread, 2 * bySeed)) {
                return ["\(label): with the columns reversed the predictions move by \(moved) (root mean square); their spread is \(spread), another seed moves them by \(bySeed)"]
            }
        } catch {
            return ["\(label): with the columns reversed the fit failed: \(error)"]
        }
        return []
    }

    /// A heavy configuration given a deadline 0.2 s away returns soon after it, with a model that scores.
    static func deadline(_ family: any LearnerFamily, data: Data, label: String) -> [String] {
        guard let heavy = heavy(family, data: data) else { return [] }
        let started = ContinuousClock.now
        do {
            let model = try family.fit(heavy, data: TrainingData(features: data.features, target: data.target),
                                       context: FitContext(deadline: started + .milliseconds(200)))
            let took = ContinuousClock.now - started
            if took > .seconds(3) { return ["\(label): a fit with a deadline 0.2 s away took \(took)"] }
            if try model.predict(data.features).contains(where: { !$0.isFinite }) { return ["\(label): the fit cut short by its deadline predicts non-finite values"] }
        } catch {
            return ["\(label): the fit cut short by its deadline failed: \(error)"]
        }
        return []
    }

    /// The declared space is consistent: defaults inside their domains, pinnable names unique, and a
    /// family that searches locally gives variations of its own kind.
    static func space(_ family: any LearnerFamily, data: Data, label: String) -> [String] {
        var problems: [String] = []
        for parameter in family.space {
            if !parameter.domain.contains(parameter.initial) { problems.append("\(label): \(parameter.name)'s default \(parameter.initial) is outside its domain") }
            if let cheap = parameter.lowCost, !parameter.domain.contains(cheap) { problems.append("\(label): \(parameter.name)'s low-cost value \(cheap) is outside its domain") }
            if case .real(let lower, _, true) = parameter.domain, !(lower > 0) { problems.append("\(label): \(parameter.name) is searched on a log scale from \(lower)") }
        }
        if Set(family.pinnableNames).count != family.pinnableNames.count { problems.append("\(label): a pinnable name is listed twice") }
        // What the search tries stays inside the space the family declares: every portfolio entry, for small
        // and large data, and every local variation of one.
        let domains = Dictionary(family.space.map { ($0.name, $0.domain) }, uniquingKeysWith: { a, _ in a })
        func inSpace(_ learner: Learner, _ what: String) {
            for (name, value) in family.values(of: learner).sorted(by: { $0.key < $1.key }) {
                guard let domain = domains[name] else { problems.append("\(label): \(what) has \(name), which the space does not declare"); continue }
                if !domain.contains(value) { problems.append("\(label): \(what) has \(name) \(value), outside its domain \(domain)") }
            }
        }
        let shapes = [data.shape, DataShape(rows: 200_000, features: 60, task: data.shape.task, outputs: data.shape.outputs),
                      DataShape(rows: 300, features: 4, task: data.shape.task, outputs: data.shape.outputs)]
        for shape in shapes {
            for entry in family.portfolio(for: shape) { inSpace(entry.learner, "the portfolio's \(entry.summary) for \(shape.rows) rows") }
        }
        guard family.searchesLocally else { return problems }
        var generator = SeededGenerator(seed: 3)
        for entry in family.portfolio(for: data.shape) {
            for _ in 0..<20 {
                guard let varied = family.variation(of: entry.learner, &generator) else {
                    problems.append("\(label): a family that searches locally gave no variation of \(entry.summary)")
                    break
                }
                if !family.owns(varied) { problems.append("\(label): a variation left the family") }
                inSpace(varied, "a variation of \(entry.summary)")
            }
        }
        return problems
    }
}
