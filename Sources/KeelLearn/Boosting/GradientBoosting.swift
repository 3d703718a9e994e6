import KeelData

/// Gradient-boosted decision trees on binned features (the algorithm of LightGBM: histogram splits,
/// leaf-wise growth, missing values with a learned direction, native categorical splits).
///
/// ```swift
/// var parameters = GradientBoostingParameters()
/// parameters.rounds = 500
/// let model = try GradientBoosting(parameters: parameters).fit(features, target: target)
/// let probabilities = try model.predict(testFeatures)
/// ```
/// Training is deterministic for a given seed and independent of the thread count.
public struct GradientBoosting: Sendable {
    public var parameters: GradientBoostingParameters

    public init(parameters: GradientBoostingParameters = GradientBoostingParameters()) {
        self.parameters = parameters
    }

    /// Margins another model gives every row, output-major (all rows of output 0, then of output 1, ...).
    public struct BaseMargins: Sendable {
        public var train: [Double]
        /// For the early-stopping rows; empty without them.
        public var validation: [Double]
        public init(train: [Double], validation: [Double] = []) {
            self.train = train
            self.validation = validation
        }
    }

    /// Held-out data for early stopping.
    /// The rows boosting stops early on: the held-out rows every family that stops early reads.
    public typealias Validation = ValidationRows

    /// Fits the ensemble. `deadline` is checked before every round; when it passes, the rounds so far are kept.
    ///
    /// `base` gives margins the trees start from instead of the objective's constant (LightGBM's
    /// `init_score`): the trees then fit what another model left over, and start from zero themselves.
    ///
    /// - Throws: `LearnError` for out-of-range parameters, no rows, a target unfit for the objective, or
    ///   weights that are negative, not finite, or all zero.
    public func fit(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]? = nil,
                    validation: Validation? = nil, base: BaseMargins? = nil,
                    deadline: ContinuousClock.Instant? = nil, binned prebinned: BinnedMatrix? = nil) throws -> GradientBoostedModel {
        try parameters.validate()
        let objective = try resolveObjective(target)
        try checkInputs(features, target: target, weights: weights, validation: validation)
        let n = features.rowCount
        let outputs = objective == .multiclass ? target.classCount : 1
        if let base {
            guard base.train.count == n * outputs, base.validation.count == (validation?.features.rowCount ?? 0) * outputs,
                  base.train.allSatisfy(\.isFinite), base.validation.allSatisfy(\.isFinite) else {
                throw LearnError.invalidData("base margins must be finite, one per row and output of the training and validation data")
            }
        }
        let binned = BinnedMatrix.reusing(prebinned, for: features, maxBins: parameters.maxBins, seed: SeedStream(parameters.seed).seed("binning"))
        // A round's trees (one per class) depend only on that round's gradients, so with several classes they
        // grow in parallel, one grower per core; each tree is what a lone grower would make.
        let growers = (0..<min(Parallel.coreCount, outputs)).map { _ in TreeGrower(binned: binned, parameters: parameters.treeParameters) }
        let initial = base == nil ? objective.initialScores(target.values, weights: weights, classCount: target.classCount)
            : [Double](repeating: 0, count: outputs)
        var scores = base?.train ?? (0..<(n * outputs)).map { initial[$0 / n] }
        var validationScores = validation.map { v in base?.validation ?? (0..<(outputs * v.features.rowCount)).map { initial[$0 / v.features.rowCount] } }
        var gradients = [GradientValue](repeating: 0, count: n * outputs)
        var hessians = [GradientValue](repeating: 0, count: n * outputs)
        var generator = SeedStream(parameters.seed).generator("sampling")
        var trees: [Tree] = []
        let allRows = (0..<n).map(Int32.init)
        var best = (loss: Double.infinity, rounds: 0)
        var stop = GradientBoostedModel.StopReason.completed

        for round in 0..<parameters.rounds {
            if let deadline, ContinuousClock.now >= deadline { stop = .deadline; break }
            scores.withUnsafeBufferPointer { s in
                target.values.withUnsafeBufferPointer { y in
                    withOptionalPointer(weights) { w in
                        gradients.withUnsafeMutableBufferPointer { g in
                            hessians.withUnsafeMutableBufferPointer { h in
                                objective.gradients(scores: s.baseAddress!, y: y.baseAddress!, weights: w, rows: n, classCount: outputs,
                                                    huberDelta: parameters.huberDelta, gradients: g.baseAddress!, hessians: h.baseAddress!)
                            }
                        }
                    }
                }
            }
            let bag = parameters.rowSubsample < 1 ? sampleRows(n, &generator) : allRows
            let usedFeatures = sampleFeatures(features.featureCount, &generator)
            var anySplit = false
            var grown = [(tree: Tree, leafRows: [(node: Int32, rows: ArraySlice<Int32>)])?](repeating: nil, count: outputs)
            gradients.withUnsafeBufferPointer { g in
                hessians.withUnsafeBufferPointer { h in
                    grown.withUnsafeMutableBufferPointer { slots in
                        let shared = SharedBuffer(base: slots.baseAddress!)
                        Parallel.forEach(growers.count) { w in
                            for k in stride(from: w, to: outputs, by: growers.count) {
                                shared[k] = growers[w].grow(gradients: g.baseAddress! + k * n, hessians: h.baseAddress! + k * n, rows: bag,
                                                            features: usedFeatures, learningRate: parameters.learningRate)
                            }
                        }
                    }
                }
            }
            for k in 0..<outputs {
                var (tree, leafRows) = grown[k]!
                // Median renewal would move leaves past their monotone bounds, so constrained models keep gradient steps.
                if objective == .l1, parameters.monotoneConstraints == nil {
                    renewMedians(&tree, leafRows: leafRows, scores: scores, y: target.values, weights: weights)
                }
                anySplit = anySplit || tree.nodeCount > 1
                update(&scores, offset: k * n, tree: tree, leafRows: leafRows, features: features, bagged: bag.count < n)
                if let validation {
                    validationScores!.withUnsafeMutableBufferPointer { v in
                        tree.addPredictions(validation.features, rows: 0..<validation.features.rowCount, to: v.baseAddress!,
                                            stride: 1, offset: k * validation.features.rowCount)
                    }
                }
                trees.append(tree)
            }
            if !anySplit { stop = .noSplit; break }
            if let validation, parameters.earlyStoppingRounds > 0 {
                let loss = objective.loss(scores: validationScores!, y: validation.target.values, rows: validation.features.rowCount,
                                          classCount: outputs, huberDelta: parameters.huberDelta)
                if loss < best.loss { best = (loss, round + 1) }
                else if round + 1 - best.rounds >= parameters.earlyStoppingRounds { stop = .earlyStopping; break }
            }
        }
        var rounds = trees.count / outputs
        if validation != nil, parameters.earlyStoppingRounds > 0, best.rounds > 0, best.rounds < rounds {
            trees.removeLast((rounds - best.rounds) * outputs)
            rounds = best.rounds
        }
        return GradientBoostedModel(objective: objective, outputCount: outputs, initialScores: initial, trees: trees,
                                    featureKinds: features.kinds, rounds: rounds, stopReason: stop)
    }

    // MARK: Steps

    private func resolveObjective(_ target: TargetEncoding) throws -> Objective {
        let objective = parameters.objective ?? (target.task.kind == .binary ? .binary : target.task.kind == .multiclass ? .multiclass : .l2)
        switch (objective, target.task.kind) {
        case (.binary, .binary), (.multiclass, .multiclass), (.l2, .regression), (.l1, .regression), (.huber, .regression):
            return objective
        default:
            throw LearnError.invalidParameter("objective \(objective.rawValue) does not fit a \(target.task.kind.rawValue) task")
        }
    }

    private func checkInputs(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]?, validation: Validation?) throws {
        try TrainingInput.check(features, target: target, weights: weights)
        if let constraints = parameters.monotoneConstraints {
            guard constraints.count == features.featureCount else {
                throw LearnError.invalidParameter("\(constraints.count) monotone constraints for \(features.featureCount) features")
            }
            for (feature, constraint) in constraints.enumerated() where constraint != 0 {
                guard (-1...1).contains(constraint) else { throw LearnError.invalidParameter("monotone constraints are -1, 0 or 1, not \(constraint)") }
                guard features.kinds[feature] == .numeric else {
                    throw LearnError.invalidParameter("feature \(feature) is categorical and cannot have a monotone constraint")
                }
            }
        }
        if let validation, validation.features.kinds != features.kinds {
            throw LearnError.invalidData("the validation data's features do not match the training data's")
        }
    }

    private func sampleRows(_ n: Int, _ generator: inout SeededGenerator) -> [Int32] {
        let take = max(1, Int((Double(n) * parameters.rowSubsample).rounded()))
        var chosen = [Bool](repeating: false, count: n)
        // Floyd's algorithm: `take` distinct rows without shuffling all n.
        for j in (n - take)..<n {
            let t = generator.next(below: j + 1)
            if chosen[t] { chosen[j] = true } else { chosen[t] = true }
        }
        return (0..<n).filter { chosen[$0] }.map(Int32.init)
    }

    private func sampleFeatures(_ count: Int, _ generator: inout SeededGenerator) -> [Int] {
        guard parameters.columnSubsample < 1 else { return Array(0..<count) }
        let take = max(1, Int((Double(count) * parameters.columnSubsample).rounded()))
        var all = Array(0..<count)
        generator.shuffle(&all)
        return all.prefix(take).sorted()
    }

    /// Adds the new tree to the training scores: rows in the bag by their leaf, others by prediction.
    private func update(_ scores: inout [Double], offset: Int, tree: Tree, leafRows: [(node: Int32, rows: ArraySlice<Int32>)],
                        features: FeatureMatrix, bagged: Bool) {
        scores.withUnsafeMutableBufferPointer { s in
            if bagged {
                tree.addPredictions(features, rows: 0..<features.rowCount, to: s.baseAddress!, stride: 1, offset: offset)
                return
            }
            for (node, rows) in leafRows {
                let value = tree.value[Int(node)]
                for row in rows { s[offset + Int(row)] += value }
            }
        }
    }

    /// L1 loss: a leaf's best constant is the weighted median of its residuals, not the gradient step.
    private func renewMedians(_ tree: inout Tree, leafRows: [(node: Int32, rows: ArraySlice<Int32>)], scores: [Double], y: [Double],
                              weights: [Double]?) {
        for (node, rows) in leafRows {
            let indices = rows.map(Int.init)
            let median = WeightedMedian.of(indices, values: { y[$0] - scores[$0] }, weights: weights)
            tree.value[Int(node)] = median * parameters.learningRate
        }
    }
}

private func withOptionalPointer<R>(_ array: [Double]?, _ body: (UnsafePointer<Double>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
