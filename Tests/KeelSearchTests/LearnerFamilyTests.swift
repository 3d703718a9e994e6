import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

/// The learner contract on every family, a family the search has never heard of searched like the others,
/// and one seed reaching every learner.
@Suite struct LearnerFamilyTests {
    private func churn(rows: Int) throws -> (Frame, Schema) {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: rows))
        return (frame, try SchemaInference.infer(frame, target: "churned").schema)
    }

    @Test(arguments: LearnerFamilies.standard.map(\.name), [TaskKind.binary, .regression, .multiclass])
    func everyFamilyKeepsTheContract(family: String, task: TaskKind) throws {
        let family = try #require(LearnerFamilies.named(family))
        let problems = LearnerContract.violations(family, data: LearnerContract.Data(task: task))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test(arguments: [TaskKind.binary, .regression, .multiclass])
    func aFamilyDefinedInTheTestKeepsTheContract(task: TaskKind) {
        let problems = LearnerContract.violations(StumpFamily(), data: LearnerContract.Data(task: task))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// A break in the contract is found: a family whose fits depend on the clock, not the seed, fails it.
    @Test func theContractFindsABrokenFamily() {
        let problems = LearnerContract.violations(StumpFamily(unseeded: true), data: LearnerContract.Data(task: .binary))
        #expect(problems.contains { $0.contains("two fits with one seed predict differently") }, "\(problems)")
    }

    /// A portfolio entry outside the family's declared space is found.
    @Test func theContractFindsAPortfolioOutsideItsSpace() {
        let problems = LearnerContract.violations(StumpFamily(portfolioThresholds: [8, 100]), data: LearnerContract.Data(task: .binary))
        #expect(problems.contains { $0.contains("has thresholds 100.0, outside its domain") }, "\(problems)")
    }

    @Test func aFamilyKeelDoesNotKnowIsSearchedAndRanked() throws {
        let (frame, schema) = try churn(rows: 400)
        var settings = SearchSettings()
        settings.trials = 5
        settings.families = LearnerFamilies.standard + [StumpFamily()]
        settings.learners = ["stump", "linear"]
        let (model, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        let stumps = report.trials.filter { $0.family == "stump" }
        #expect(stumps.count >= 2, "the stump's portfolio entries ran: \(report.trials.map(\.family))")
        #expect(stumps.allSatisfy { $0.status == .completed && $0.mean.isFinite }, "\(stumps.map(\.message))")
        #expect(report.trials.contains { $0.family == "linear" })
        #expect(!report.leaderboard.isEmpty)
        #expect(try model.predictor.predict(frame.selecting(rows: [0, 1, 2])).count == 3)
        // A trial schedule that lists the outside family's tries (as a saved model's does when that family
        // did not win) can be saved; read back, the tries name the family and refuse to fit.
        let schedule = report.trials.map(\.learner)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let read = try decoder.decode([Learner].self, from: Search.modelEncoder().encode(schedule))
        let tried = try #require(read.first { $0.family.name == "stump" })
        #expect(read == schedule, "names, settings and seeds are kept")
        let data = LearnerContract.Data(task: .binary)
        #expect(CSVFixtures.errorMessage { _ = try tried.fit(data.features, target: data.target) }?.contains("not available here") == true)

        // Alone, it is what ships: it scores through every path, and saving it says why it cannot be saved.
        settings.learners = ["stump"]
        let (alone, _) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(alone.predictor.model.kindName == "stump")
        #expect(CSVFixtures.errorMessage { _ = try JSONEncoder().encode(alone.predictor.model) }?.contains("defined outside Keel") == true)
    }

    /// Pinnable names come from the families: EBMs take theirs now, and a typo is still an error naming them.
    @Test func pinnedSettingsAreTheFamilies() throws {
        let fixed = try FixedHyperparameters(["ebm": ["interactions": 0, "outer_bags": 2]])
        let entry = try #require(Portfolio.initial(rows: 500, features: 5, task: .binary, outputs: 1, families: ["ebm"]).first.first)
        guard case .explainableBoosting(let p) = fixed.apply(entry).learner else { Issue.record("an EBM"); return }
        #expect(p.interactions == 0 && p.outerBags == 2)
        #expect(fixed.apply(entry).summary.contains("(fixed: interactions, outer_bags)"))
        #expect(CSVFixtures.errorMessage { _ = try FixedHyperparameters(["ebm": ["pairs": 1]]) }?.contains("it takes learning_rate, max_rounds") == true)
        #expect(Set(FixedHyperparameters.names.keys) == Set(LearnerFamilies.names))
    }

    @Test func oneSeedReachesEveryRandomLearner() throws {
        let data = LearnerContract.Data(task: .binary)
        func portfolio(_ seed: UInt64) -> [Learner] {
            let (first, later) = Portfolio.initial(shape: data.shape, families: LearnerFamilies.standard, seeds: SeedStream(seed))
            return (first + later).map(\.learner)
        }
        let (one, again, other) = (portfolio(1), portfolio(1), portfolio(2))
        #expect(one == again)
        for (a, b) in zip(one, other) {
            switch (a, b) {
            case (.linear, .linear): #expect(a == b, "coordinate descent draws nothing")
            default: #expect(a != b, "\(a.family.name): the seed reaches it")
            }
        }
        // Forests fitted from two seeds differ; from one seed twice they are identical.
        let forests = zip(one, other).filter { if case .randomForest = $0.0 { true } else { false } }
        #expect(forests.count == 2)
        for (a, b) in forests {
            let fit = { (learner: Learner) in try learner.fit(data.features, target: data.target).predict(data.features) }
            #expect(try fit(a) == fit(a))
            #expect(try fit(a) != fit(b))
        }
    }

    /// Configurations that draw nothing at random give the same model for any seed: linear models, and
    /// boosting without row or column sampling (on fewer rows than binning samples). Their fits are what
    /// they were before the seed stream; the others' changed with it.
    @Test func configurationsWithoutRandomnessIgnoreTheSeed() throws {
        let data = LearnerContract.Data(task: .binary)
        let shape = data.shape
        var fixed = LinearFamily().portfolio(for: shape).map(\.learner)
        fixed += BoostingFamily().portfolio(for: shape).map(\.learner).filter { !BoostingFamily().benefitsFromSeedBagging($0) }
        #expect(fixed.count >= 5)
        for learner in fixed {
            let family = learner.family
            let one = try family.seeded(learner, 1).fit(data.features, target: data.target).predict(data.features)
            let other = try family.seeded(learner, 99).fit(data.features, target: data.target).predict(data.features)
            #expect(one == other, "\(family.describe(learner))")
        }
    }

    @Test func aSearchGivesOtherForestsForAnotherSeedAndTheSameForTheSameSeed() throws {
        let (frame, schema) = try churn(rows: 300)
        var settings = SearchSettings()
        settings.trials = 1
        settings.learners = ["random_forest"]
        settings.screenColumns = false
        let first = try Search.run(frame: frame, schema: schema, settings: settings).0
        let again = try Search.run(frame: frame, schema: schema, settings: settings).0
        settings.seed = 2
        let other = try Search.run(frame: frame, schema: schema, settings: settings).0
        #expect(first.predictor.model == again.predictor.model)
        #expect(first.predictor.model != other.predictor.model)
        guard case .randomForest(let p) = first.provenance.trialSchedule[0], case .randomForest(let q) = other.provenance.trialSchedule[0] else {
            Issue.record("a forest ran")
            return
        }
        #expect(p.seed != 0 && p.seed != q.seed, "the forest's seed comes from --seed")
    }
}

extension LearnerFamilyTests {
    /// A fold is binned once per bin count and row set, as binning it for the trial would bin it; a third bin
    /// count (a pinned `max_bins`) is binned for its trial but not kept, so memory stays what the budget counts.
    @Test func foldBinsAreMadeOnceAndBounded() {
        let table = SyntheticTable(rows: 500, seed: 2)
        let bins = FoldBins(seed: 7)
        let first = bins.binned(.all, of: table.features, maxBins: 255)
        #expect(first.bins == BinnedMatrix(table.features, maxBins: 255, seed: 7).bins)
        #expect(bins.binned(.all, of: table.features, maxBins: 255).bins == first.bins && bins.keptCount == 1)
        _ = bins.binned(.all, of: table.features, maxBins: 63)
        let third = bins.binned(.all, of: table.features, maxBins: 15)
        #expect(bins.keptCount == FoldBins.keptBinCounts && third.maxBins == 15)
        _ = bins.binned(.stopping, of: table.features.selecting(rows: Array(0..<400)), maxBins: 255)
        #expect(bins.keptCount == FoldBins.keptBinCounts + 1)
    }
}

/// A learner family only this test target knows: one split on the feature and threshold (of 16 quantiles)
/// (moved by the seed) with the least weighted squared error of the target's classes or values; scores are the two sides'
/// smoothed class frequencies (log-odds or logs) or means. Missing values go left.
struct StumpFamily: LearnerFamily {
    /// Seeds its threshold sample from the clock, to check that the contract catches it.
    var unseeded = false
    /// Thresholds per portfolio entry: 8 and 16, inside the space (a test puts one outside).
    var portfolioThresholds = [8, 16]

    var name: String { "stump" }
    var space: [Hyperparameter] { [Hyperparameter("thresholds", .integer(lower: 2, upper: 64), initial: 16, lowCost: 4)] }
    var pinnableNames: [String] { ["thresholds"] }

    func owns(_ learner: Learner) -> Bool {
        if case .external(let e) = learner { e.family.name == name } else { false }
    }

    func portfolio(for shape: DataShape) -> [PortfolioEntry] {
        portfolioThresholds.enumerated().map { index, count in
            let learner = Learner.external(ExternalLearner(family: self, settings: ["thresholds": Double(count)]))
            return PortfolioEntry(learner, summary: "\(count) thresholds", rank: 15 + index * 10)
        }
    }

    func describe(_ learner: Learner) -> String {
        if case .external(let e) = learner { "\(Int(e.settings["thresholds"] ?? 16)) thresholds" } else { "" }
    }

    func pinning(_ learner: Learner, to values: [String: Double]) -> Learner {
        guard case .external(var e) = learner else { return learner }
        for (key, value) in values { e.settings[key] = value }
        return .external(e)
    }

    func seeded(_ learner: Learner, _ seed: UInt64) -> Learner {
        guard case .external(var e) = learner else { return learner }
        e.seed = seed
        return .external(e)
    }

    func memoryEstimate(_ learner: Learner, shape: DataShape) -> Int { shape.rows * 16 }

    func fit(_ learner: Learner, data: TrainingData, context: FitContext) throws -> FittedModel {
        guard case .external(let e) = learner else { throw LearnError.invalidParameter("not a stump") }
        let x = data.features
        let n = x.rowCount
        let task = data.target.task.kind
        let outputs = task == .multiclass ? data.target.classCount : 1
        let weights = data.weights ?? [Double](repeating: 1, count: n)
        // What each side predicts: per class (one-hot) or the value.
        let channels = task == .regression ? 1 : data.target.classCount
        func target(_ i: Int, _ k: Int) -> Double { task == .regression ? data.target.values[i] : (Int(data.target.values[i]) == k ? 1 : 0) }
        var generator = SeededGenerator(seed: unseeded ? UInt64(Date().timeIntervalSince1970 * 1e9) & 0xFFFF_FFFF : e.seed)
        let count = Int(e.settings["thresholds"] ?? 16)
        // One shift per quantile, the same for every feature, so the column order does not change the model.
        let shifts = (1..<count).map { _ in generator.nextUnit() }
        var best = (error: Double.infinity, feature: 0, threshold: Double.nan)
        for f in 0..<x.featureCount {
            if let deadline = context.deadline, ContinuousClock.now >= deadline, best.error.isFinite { break }
            let column = (0..<n).map { x.value(row: $0, feature: f) }.filter { !$0.isNaN }.sorted()
            guard !column.isEmpty else { continue }
            // Quantile thresholds, each moved by the seed within half its gap to the next.
            for q in 1..<count {
                let shift = Int(shifts[q - 1] * Double(max(1, column.count / (2 * count))))
                let threshold = column[min(column.count - 1, (q * column.count) / count + shift)]
                var sums = [[Double]](repeating: [Double](repeating: 0, count: channels), count: 2)
                var squares = [Double](repeating: 0, count: 2)
                var totals = [Double](repeating: 0, count: 2)
                for i in 0..<n {
                    let v = x.value(row: i, feature: f)
                    let side = !v.isNaN && v > threshold ? 1 : 0
                    totals[side] += weights[i]
                    for k in 0..<channels {
                        let t = target(i, k)
                        sums[side][k] += weights[i] * t
                        squares[side] += weights[i] * t * t
                    }
                }
                var error = 0.0
                for side in 0..<2 {
                    error += squares[side]
                    guard totals[side] > 0 else { continue }
                    var explained = 0.0
                    for k in 0..<channels { explained += sums[side][k] * sums[side][k] }
                    error -= explained / totals[side]
                }
                if error < best.error - 1e-12 { best = (error, f, threshold) }
            }
        }
        var scores = [[Double]](repeating: [Double](repeating: 0, count: outputs), count: 2)
        for side in 0..<2 {
            var total = 0.0
            var sums = [Double](repeating: 0, count: channels)
            for i in 0..<n {
                let v = x.value(row: i, feature: best.feature)
                guard (!v.isNaN && v > best.threshold ? 1 : 0) == side else { continue }
                total += weights[i]
                for k in 0..<channels { sums[k] += weights[i] * target(i, k) }
            }
            switch task {
            case .regression: scores[side][0] = total > 0 ? sums[0] / total : 0
            case .binary:
                let p = (sums[1] + 1) / (total + 2)
                scores[side][0] = log(p / (1 - p))
            case .multiclass:
                for k in 0..<outputs { scores[side][k] = log((sums[k] + 1) / (total + Double(outputs))) }
            }
        }
        let stump = Stump(feature: best.feature, threshold: best.threshold, scores: scores, outputs: outputs)
        return .external(ExternalModel(family: name, task: task, outputs: outputs, predictor: stump))
    }

    struct Stump: ExternalPredictor {
        let feature: Int
        let threshold: Double
        let scores: [[Double]]
        let outputs: Int

        func rawScores(_ matrix: FeatureMatrix) throws -> [Double] {
            var raw: [Double] = []
            raw.reserveCapacity(matrix.rowCount * outputs)
            for i in 0..<matrix.rowCount {
                let v = matrix.value(row: i, feature: feature)
                raw += scores[!v.isNaN && v > threshold ? 1 : 0]
            }
            return raw
        }

        var storedValues: Int { 2 * outputs + 2 }
    }
}
