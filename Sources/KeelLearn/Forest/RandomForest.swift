import KeelData

/// Hyperparameters of random forests and extremely randomised trees, with scikit-learn's defaults.
public struct ForestParameters: Codable, Sendable, Equatable {
    /// How many features each split may choose from.
    public enum MaxFeatures: Codable, Sendable, Equatable {
        case sqrt, log2, all
        case fraction(Double)

        func count(of features: Int) -> Int {
            let n = Double(features)
            let chosen: Double = switch self {
            case .sqrt: n.squareRoot()
            case .log2: Glibc.log2(n)
            case .all: n
            case .fraction(let f): f * n
            }
            return min(features, max(1, Int(chosen)))
        }
    }

    public var trees = 100
    /// nil: √p for classification, all features for regression (scikit-learn's defaults).
    public var maxFeatures: MaxFeatures?
    /// `min_samples_leaf`.
    public var minSamplesLeaf = 1
    /// 0 grows trees until leaves are pure or hold `minSamplesLeaf` rows.
    public var maxDepth = 0
    /// Draw a bootstrap sample per tree (random forests); extra trees use all rows.
    public var bootstrap = true
    /// Random thresholds instead of the best ones (extremely randomised trees).
    public var randomThresholds = false
    public var maxBins = 255
    public var seed: UInt64 = 0

    public init() {}

    /// scikit-learn's `ExtraTrees…` defaults: no bootstrap, random thresholds.
    public static var extraTrees: ForestParameters {
        var parameters = ForestParameters()
        parameters.bootstrap = false
        parameters.randomThresholds = true
        return parameters
    }

    public func validate() throws {
        guard trees >= 1 else { throw LearnError.invalidParameter("a forest needs at least 1 tree, not \(trees)") }
        guard minSamplesLeaf >= 1 else { throw LearnError.invalidParameter("min samples per leaf must be at least 1, not \(minSamplesLeaf)") }
        guard maxDepth >= 0 else { throw LearnError.invalidParameter("max depth must be 0 (no limit) or positive, not \(maxDepth)") }
        guard maxBins >= 2, maxBins <= maximumValueBins else { throw LearnError.invalidParameter("max bins must be between 2 and \(maximumValueBins), not \(maxBins)") }
        if case .fraction(let f) = maxFeatures, !(f > 0 && f <= 1) {
            throw LearnError.invalidParameter("max features fraction must be in (0, 1], not \(f)")
        }
    }
}

/// A fitted forest: the average of its trees' outputs.
public struct ForestModel: Codable, Sendable, Equatable {
    public let task: TaskKind
    /// 1 for binary (the positive class's share) and regression, k for multiclass (one-vs-rest per class).
    public let outputCount: Int
    /// Tree-major: tree t for output k is `trees[t * outputCount + k]`.
    public let trees: [Tree]
    public let featureKinds: [FeatureKind]
    /// Out-of-bag accuracy (classification) or R² (regression); nil without bootstrap.
    public let outOfBagScore: Double?

    /// Class probabilities (row-major, both classes for binary) or values, like `GradientBoostedModel.predict`.
    public func predict(_ matrix: FeatureMatrix) throws -> [Double] {
        guard matrix.kinds == featureKinds else {
            throw LearnError.schemaMismatch("the data has \(matrix.featureCount) features of kinds \(matrix.kinds); the model was trained on \(featureKinds.count)")
        }
        let n = matrix.rowCount
        var sums = [Double](repeating: 0, count: n * outputCount)
        sums.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(base: buffer.baseAddress!)
            let chunks = Parallel.chunks(n, minimum: 1024)
            Parallel.forEach(chunks.count) { c in
                // Indexing borrows each tree; iterating would copy it (and retain its eleven arrays) per chunk.
                for t in trees.indices {
                    trees[t].addPredictions(matrix, rows: chunks[c], to: out.base, stride: outputCount, offset: t % outputCount)
                }
            }
        }
        let treeCount = Double(trees.count / outputCount)
        return Self.finish(sums.map { $0 / treeCount }, task: task, outputs: outputCount)
    }

    static func finish(_ means: [Double], task: TaskKind, outputs: Int) -> [Double] {
        switch task {
        case .regression: return means
        case .binary: return means.flatMap { p in [1 - min(max(p, 0), 1), min(max(p, 0), 1)] }
        case .multiclass:
            var probabilities = means
            for row in 0..<(means.count / outputs) {
                let range = (row * outputs)..<((row + 1) * outputs)
                let sum = means[range].reduce(0) { $0 + max($1, 0) }
                for i in range { probabilities[i] = sum > 0 ? max(means[i], 0) / sum : 1 / Double(outputs) }
            }
            return probabilities
        }
    }
}

/// Random forests (Breiman 2001) and extremely randomised trees (Geurts et al. 2006) on binned features.
///
/// Trees are grown on squared error of the target (of each class's 0/1 indicator for classifiers, which
/// ranks splits as Gini impurity does for two classes), fully by default, choosing among `maxFeatures`
/// features drawn afresh at every split. Multiclass forests grow one tree per class on the same sample.
/// Trees are grown in parallel, each from its own seed, so the forest does not depend on the thread count.
public struct RandomForest: Sendable {
    public var parameters: ForestParameters

    public init(parameters: ForestParameters = ForestParameters()) {
        self.parameters = parameters
    }

    public func fit(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]? = nil,
                    deadline: ContinuousClock.Instant? = nil, binned prebinned: BinnedMatrix? = nil) throws -> ForestModel {
        try parameters.validate()
        try TrainingInput.check(features, target: target, weights: weights)
        let n = features.rowCount
        let outputs = target.task.kind == .multiclass ? target.classCount : 1
        let channels = indicatorChannels(target, outputs: outputs, weights: weights)
        let binned = BinnedMatrix.reusing(prebinned, for: features, maxBins: parameters.maxBins, seed: SeedStream(parameters.seed).seed("binning"))
        var grower = TreeGrower.Parameters()
        grower.maxLeaves = Int.max
        grower.maxDepth = parameters.maxDepth
        grower.depthFirst = true
        grower.randomThresholds = parameters.randomThresholds
        grower.featuresPerSplit = (parameters.maxFeatures ?? (target.task.kind == .regression ? .all : .sqrt)).count(of: features.featureCount)
        grower.split.minChildRows = parameters.minSamplesLeaf
        grower.split.minChildHessian = 0
        grower.split.maxCategoriesForOneVsRest = Int.max

        var trees = [Tree?](repeating: nil, count: parameters.trees * outputs)
        var bags = [[Int32]](repeating: [], count: parameters.trees)
        let workers = min(Parallel.coreCount, parameters.trees)
        trees.withUnsafeMutableBufferPointer { treeSlots in
            bags.withUnsafeMutableBufferPointer { bagSlots in
                let (treeOut, bagOut) = (SharedBuffer(base: treeSlots.baseAddress!), SharedBuffer(base: bagSlots.baseAddress!))
                Parallel.forEach(workers) { worker in
                    let builder = TreeGrower(binned: binned, parameters: grower)
                    for t in stride(from: worker, to: parameters.trees, by: workers) {
                        if let deadline, ContinuousClock.now >= deadline { break }
                        var generator = SeedStream(parameters.seed).generator("tree", index: t)
                        let bag = parameters.bootstrap ? (0..<n).map { _ in Int32(generator.next(below: n)) }.sorted() : (0..<n).map(Int32.init)
                        bagOut[t] = bag
                        for k in 0..<outputs {
                            let tree = channels[k].gradients.withUnsafeBufferPointer { g in
                                channels[k].hessians.withUnsafeBufferPointer { h in
                                    builder.grow(gradients: g.baseAddress!, hessians: h.baseAddress!, rows: bag,
                                                 features: Array(0..<features.featureCount), learningRate: 1, seed: generator.next()).tree
                                }
                            }
                            treeOut[t * outputs + k] = tree
                        }
                    }
                }
            }
        }
        let grown = trees.prefix { $0 != nil }.map { $0! }
        guard grown.count >= outputs else { throw LearnError.invalidParameter("the deadline passed before a single tree was grown") }
        let kept = Array(grown.prefix(grown.count / outputs * outputs))
        let oob = parameters.bootstrap ? outOfBagScore(kept, bags: Array(bags.prefix(kept.count / outputs)), features: features,
                                                        target: target, outputs: outputs) : nil
        return ForestModel(task: target.task.kind, outputCount: outputs, trees: kept, featureKinds: features.kinds, outOfBagScore: oob)
    }

    /// Squared-error gradients whose leaf outputs are the (weighted) mean of y, or of a class's indicator.
    private func indicatorChannels(_ target: TargetEncoding, outputs: Int, weights: [Double]?) -> [(gradients: [GradientValue], hessians: [GradientValue])] {
        (0..<outputs).map { k in
            let gradients = target.values.enumerated().map { i, y -> GradientValue in
                let value = target.task.kind == .regression ? y : (target.task.kind == .binary ? y : (Int(y) == k ? 1 : 0))
                return GradientValue(-value * (weights?[i] ?? 1))
            }
            let hessians = (0..<target.values.count).map { GradientValue(weights?[$0] ?? 1) }
            return (gradients, hessians)
        }
    }

    /// Accuracy or R² of each row predicted by the trees whose bootstrap sample left it out.
    private func outOfBagScore(_ trees: [Tree], bags: [[Int32]], features: FeatureMatrix, target: TargetEncoding, outputs: Int) -> Double? {
        let n = features.rowCount
        var sums = [Double](repeating: 0, count: n * outputs)
        var votes = [Int](repeating: 0, count: n)
        for (t, bag) in bags.enumerated() {
            var inBag = [Bool](repeating: false, count: n)
            for row in bag { inBag[Int(row)] = true }
            let outside = (0..<n).filter { !inBag[$0] }
            for row in outside { votes[row] += 1 }
            sums.withUnsafeMutableBufferPointer { s in
                features.values.withUnsafeBufferPointer { values in
                    for k in 0..<outputs {
                        let tree = trees[t * outputs + k]
                        for row in outside { s[row * outputs + k] += tree.value[tree.leaf { values[$0 * n + row] }] }
                    }
                }
            }
        }
        let scored = (0..<n).filter { votes[$0] > 0 }
        guard !scored.isEmpty else { return nil }
        let means = scored.flatMap { row in (0..<outputs).map { sums[row * outputs + $0] / Double(votes[row]) } }
        let truth = scored.map { target.values[$0] }
        let predictions = ForestModel.finish(means, task: target.task.kind, outputs: outputs)
        let metric: Metric = target.task.kind == .regression ? .r2 : .accuracy
        return try? metric.evaluate(truth: truth, predictions: predictions, classCount: target.task.kind == .regression ? 0 : max(outputs, 2))
    }
}

#if canImport(Glibc)
import Glibc
#endif
