import KeelData

#if canImport(Glibc)
import Glibc
#endif

/// Hyperparameters of the explainable boosting machine, after InterpretML's `ExplainableBoosting…` defaults
/// (fewer outer bags and rounds, so that it fits inside an AutoML budget).
public struct ExplainableBoostingParameters: Codable, Sendable, Equatable {
    public var learningRate = 0.02
    /// Rounds per bag; a round updates every term once.
    public var maxRounds = 2000
    public var earlyStoppingRounds = 50
    /// Share of each bag's rows held out for early stopping.
    public var validationFraction = 0.15
    /// Bags whose shape functions are averaged (smoother, more stable shapes).
    public var outerBags = 4
    public var maxBins = 255
    /// Leaves of the small tree fitted to a numeric feature per step (InterpretML's `max_leaves`).
    public var maxLeaves = 3
    public var minSamplesLeaf = 2
    public var l2 = 1.0
    /// Pairwise interaction terms picked by FAST (binary and regression tasks).
    public var interactions = 10
    /// Bins per feature of an interaction term.
    public var interactionBins = 32
    /// Per feature: +1 / −1 for a shape that must not fall / rise, 0 when free.
    public var monotoneConstraints: [Int]?
    public var seed: UInt64 = 0

    public init() {}

    public func validate(features: FeatureMatrix) throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw LearnError.invalidParameter(message) } }
        try check(learningRate > 0 && learningRate <= 1, "learning rate must be in (0, 1], not \(learningRate)")
        try check(maxRounds >= 1, "max rounds must be at least 1, not \(maxRounds)")
        try check(validationFraction > 0 && validationFraction < 0.5, "validation fraction must be in (0, 0.5), not \(validationFraction)")
        try check(outerBags >= 1, "outer bags must be at least 1, not \(outerBags)")
        try check(maxBins >= 2 && maxBins <= maximumValueBins, "max bins must be between 2 and \(maximumValueBins), not \(maxBins)")
        try check(maxLeaves >= 2 && maxLeaves <= 3, "max leaves must be 2 or 3, not \(maxLeaves)")
        try check(minSamplesLeaf >= 1 && l2 >= 0 && interactions >= 0, "min samples, L2 and interactions must not be negative")
        try check(interactionBins >= 2 && interactionBins <= 64, "interaction bins must be between 2 and 64, not \(interactionBins)")
        if let m = monotoneConstraints {
            try check(m.count == features.featureCount, "\(m.count) monotone constraints for \(features.featureCount) features")
            for (f, c) in m.enumerated() where c != 0 {
                try check(features.kinds[f] == .numeric, "feature \(f) is categorical and cannot have a monotone constraint")
            }
        }
    }
}

/// A fitted EBM: raw score = intercept + Σ shape functions of single features + Σ pair terms. The terms
/// are the model and its explanation: `terms[t].scores[bin]` is term t's contribution for a row in that bin.
public struct ExplainableBoostingModel: Codable, Sendable, Equatable {
    public struct Term: Codable, Sendable, Equatable {
        /// One feature (a shape function) or two (an interaction).
        public var features: [Int]
        /// Main terms: one score per bin (missing last) and output; pairs: `scores[(i * binsB + j) * outputs + k]`
        /// over coarse bins of both features.
        public var scores: [Double]
        /// For pairs: how each feature's fine bins map to coarse bins.
        public var coarse: [[Int]]
        /// Mean absolute contribution over the training rows (the term's importance).
        public var importance: Double
    }

    public let task: TaskKind
    public let outputs: Int
    public let intercepts: [Double]
    public let mappers: [BinMapper]
    public let featureKinds: [FeatureKind]
    public let terms: [Term]

    public func rawScores(_ matrix: FeatureMatrix) throws -> [Double] {
        guard matrix.kinds == featureKinds else {
            throw LearnError.schemaMismatch("the data has \(matrix.featureCount) features of kinds \(matrix.kinds); the model was trained on \(featureKinds.count)")
        }
        let n = matrix.rowCount
        let bins = EBMBins(matrix, mappers: mappers)
        var scores = [Double](repeating: 0, count: n * outputs)
        for i in 0..<n { for k in 0..<outputs { scores[i * outputs + k] = intercepts[k] } }
        for term in terms {
            if term.features.count == 1 {
                let f = term.features[0]
                for i in 0..<n { let b = bins[f, i]; for k in 0..<outputs { scores[i * outputs + k] += term.scores[b * outputs + k] } }
            } else {
                let (a, b) = (term.features[0], term.features[1])
                let width = term.coarse[1].max()! + 1
                for i in 0..<n {
                    let cell = term.coarse[0][bins[a, i]] * width + term.coarse[1][bins[b, i]]
                    scores[i * outputs] += term.scores[cell]
                }
            }
        }
        return scores
    }

    /// Each term's score for every row (row-major, one per output; pair terms add to the first output
    /// only, as in `rawScores`): the model's own explanation. Intercepts plus their sum is the raw margin.
    public func termContributions(_ matrix: FeatureMatrix) throws -> [[Double]] {
        guard matrix.kinds == featureKinds else {
            throw LearnError.schemaMismatch("the data has \(matrix.featureCount) features of kinds \(matrix.kinds); the model was trained on \(featureKinds.count)")
        }
        let n = matrix.rowCount
        let bins = EBMBins(matrix, mappers: mappers)
        return terms.map { term in
            var scores = [Double](repeating: 0, count: n * outputs)
            if term.features.count == 1 {
                let f = term.features[0]
                for i in 0..<n { let b = bins[f, i]; for k in 0..<outputs { scores[i * outputs + k] = term.scores[b * outputs + k] } }
            } else {
                let (a, b) = (term.features[0], term.features[1])
                let width = term.coarse[1].max()! + 1
                for i in 0..<n { scores[i * outputs] = term.scores[term.coarse[0][bins[a, i]] * width + term.coarse[1][bins[b, i]]] }
            }
            return scores
        }
    }

    public func predict(_ matrix: FeatureMatrix) throws -> [Double] {
        ScoreLink.apply(try rawScores(matrix), task: task, outputs: outputs)
    }
}

/// Bins of a matrix by fitted mappers, column-major, as `Int` for indexing.
struct EBMBins {
    let rows: Int
    /// Column-major, one `Bin` a cell: feature `f`'s bins are `values[f * rows ..< (f + 1) * rows]`.
    let values: [Bin]
    let binCounts: [Int]

    /// The training rows' bins: the shared binned matrix's own column-major copy, not another one.
    init(_ binned: BinnedMatrix) {
        rows = binned.rowCount
        values = binned.columns
        binCounts = binned.mappers.map(\.totalBins)
    }

    /// Rows to score, binned by the model's mappers as training binned its rows.
    init(_ matrix: FeatureMatrix, mappers: [BinMapper]) {
        let rows = matrix.rowCount
        self.rows = rows
        var values = [Bin](repeating: 0, count: rows * mappers.count)
        for (f, mapper) in mappers.enumerated() {
            switch mapper.kind {
            case .numeric(let bounds):
                bounds.withUnsafeBufferPointer { b in
                    for i in 0..<rows { values[f * rows + i] = BinMapper.numericBin(matrix.value(row: i, feature: f), bounds: b, missingBin: mapper.missingBin) }
                }
            case .categorical:
                let table = mapper.codeToBin(levelCount: 0)
                for i in 0..<rows {
                    let v = matrix.value(row: i, feature: f)
                    let code = v.isNaN ? -1 : Int(v)
                    values[f * rows + i] = code >= 0 && code < table.count ? table[code] : Bin(mapper.missingBin)
                }
            }
        }
        self.values = values
        binCounts = mappers.map(\.totalBins)
    }

    subscript(feature: Int, row: Int) -> Int { Int(values[feature * rows + row]) }
}

/// Explainable boosting machines (Lou, Caruana, Gehrke & Hooker 2013; Nori et al. 2019, InterpretML):
/// cyclic gradient boosting of one shape function per feature with a small learning rate, missing values in
/// their own bin, bagging, early stopping per bag, then a few pairwise terms chosen by FAST (Lou et al. 2013).
public struct ExplainableBoosting: Sendable {
    public var parameters: ExplainableBoostingParameters

    public init(parameters: ExplainableBoostingParameters = ExplainableBoostingParameters()) {
        self.parameters = parameters
    }

    public func fit(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]? = nil,
                    deadline: ContinuousClock.Instant? = nil, binned prebinned: BinnedMatrix? = nil) throws -> ExplainableBoostingModel {
        try parameters.validate(features: features)
        try TrainingInput.check(features, target: target, weights: weights)
        let n = features.rowCount
        guard n >= 10 else { throw LearnError.invalidData("an EBM needs at least 10 rows, not \(n)") }
        let objective: Objective = target.task.kind == .binary ? .binary : target.task.kind == .multiclass ? .multiclass : .l2
        let outputs = objective == .multiclass ? target.classCount : 1
        let binned = BinnedMatrix.reusing(prebinned, for: features, maxBins: parameters.maxBins, seed: SeedStream(parameters.seed).seed("binning"))
        let bins = EBMBins(binned)
        let intercepts = objective.initialScores(target.values, weights: weights, classCount: target.classCount)
        let context = EBMContext(bins: bins, kinds: features.kinds, y: target.values, weights: weights, objective: objective,
                                 outputs: outputs, parameters: parameters, deadline: deadline)
        var bagScores = [[[Double]]?](repeating: nil, count: parameters.outerBags)
        bagScores.withUnsafeMutableBufferPointer { slots in
            let out = SharedBuffer(base: slots.baseAddress!)
            Parallel.forEach(parameters.outerBags) { bag in
                out[bag] = context.boostMains(bag: bag, intercepts: intercepts, stratify: objective != .l2)
            }
        }
        let bags = bagScores.compactMap { $0 }
        var mains = bags[0]
        for f in mains.indices { for b in mains[f].indices { mains[f][b] = bags.reduce(0) { $0 + $1[f][b] } / Double(bags.count) } }
        // Centre each shape on the training rows and move its mean into the intercept: predictions are
        // unchanged, and a shape then reads as "this value raises or lowers the score from the average".
        var centredIntercepts = intercepts
        for f in mains.indices {
            for k in 0..<outputs {
                let mean = (0..<n).reduce(0.0) { $0 + mains[f][bins[f, $1] * outputs + k] } / Double(n)
                for b in 0..<bins.binCounts[f] { mains[f][b * outputs + k] -= mean }
                centredIntercepts[k] += mean
            }
        }
        var terms = mains.enumerated().map { f, scores in
            ExplainableBoostingModel.Term(features: [f], scores: scores, coarse: [], importance: 0)
        }
        if outputs == 1, parameters.interactions > 0, features.featureCount >= 2 {
            terms += context.boostPairs(mains: mains, intercepts: centredIntercepts)
        }
        for t in terms.indices { terms[t].importance = context.importance(of: terms[t]) }
        return ExplainableBoostingModel(task: target.task.kind, outputs: outputs, intercepts: centredIntercepts, mappers: binned.mappers,
                                        featureKinds: features.kinds, terms: terms)
    }
}
