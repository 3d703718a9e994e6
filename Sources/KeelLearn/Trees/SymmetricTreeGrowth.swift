/// Symmetric (oblivious) trees, as CatBoost grows them: every node of a level splits on the same feature
/// and threshold, chosen for the largest gain summed over the level's nodes. Such a tree is a lookup on
/// `depth` yes/no questions; it fits less to any one region than a leaf-wise tree, which on small and
/// medium tables often generalises better (bank churn, bike rentals). The result is an ordinary `Tree`, so
/// prediction, TreeSHAP and export need nothing new.
///
/// A node where the level's split would leave a side below the minimum rows or hessian still splits (the
/// tree stays symmetric), but both children keep the node's output, so it adds no gain and fits nothing.
extension TreeGrower {
    /// The level's split: a numeric threshold bin with its missing side, or one categorical bin against the rest.
    private struct LevelSplit {
        var feature: Int
        var gain: Double
        var bin: Int
        var categorical: Bool
        var missingLeft: Bool
    }

    func growSymmetric(gradients: UnsafePointer<GradientValue>, hessians: UnsafePointer<GradientValue>, rows bag: [Int32],
                       features: [Int], learningRate: Double) -> (tree: Tree, leafRows: [(node: Int32, rows: ArraySlice<Int32>)]) {
        var (tree, root) = start(gradients: gradients, hessians: hessians, rows: bag, features: features, learningRate: learningRate)
        var level = [root]
        for depth in 0..<parameters.symmetricDepth {
            guard let chosen = bestLevelSplit(level, features: features) else { break }
            let last = depth == parameters.symmetricDepth - 1
            var next: [Leaf] = []
            next.reserveCapacity(level.count * 2)
            for parent in level {
                let split = splitOf(chosen, parent)
                let leftCount = partition(parent, split)
                let fits = finder.admissible(split.left) && finder.admissible(split.right)
                // An empty node (the level's split sent none of its rows here) outputs nothing.
                let parentOutput = parent.totals.hessian > 0 ? finder.leafOutput(parent.totals) : 0
                let (leftNode, rightNode) = tree.split(
                    parent.node, feature: split.feature, threshold: threshold(split), categories: categorySet(split),
                    defaultLeft: split.defaultLeft, gain: fits ? max(split.gain, 0) : 0,
                    leftLeaf: ((fits ? finder.leafOutput(split.left) : parentOutput) * learningRate, split.left.hessian, leftCount),
                    rightLeaf: ((fits ? finder.leafOutput(split.right) : parentOutput) * learningRate, split.right.hessian, parent.count - leftCount))
                var left = Leaf(node: leftNode, begin: parent.begin, count: leftCount, depth: depth + 1, totals: split.left, histogram: -1, best: nil)
                var right = Leaf(node: rightNode, begin: parent.begin + leftCount, count: parent.count - leftCount, depth: depth + 1,
                                 totals: split.right, histogram: -1, best: nil)
                if last {
                    freeBuffers.append(parent.histogram)
                } else {
                    // The smaller child's histogram from its rows, the larger one's by subtraction in the parent's buffer.
                    let buffer = acquire()
                    let leftIsSmaller = left.count <= right.count
                    if leftIsSmaller { (left.histogram, right.histogram) = (buffer, parent.histogram) }
                    else { (left.histogram, right.histogram) = (parent.histogram, buffer) }
                    buildHistogram(of: leftIsSmaller ? left : right, gradients: gradients, hessians: hessians, features: features)
                    subtract(buffer, from: parent.histogram)
                }
                next.append(left)
                next.append(right)
            }
            level = next
        }
        for leaf in level where leaf.histogram >= 0 { freeBuffers.append(leaf.histogram) }
        return (tree, level.map { (node: $0.node, rows: rows[$0.begin..<($0.begin + $0.count)]) })
    }

    /// The split with the largest gain summed over the level's nodes (nodes where a side would be too small
    /// contribute nothing); nil when none gains more than `minSplitGain`. Features are scanned in parallel,
    /// ties go to the lowest feature index.
    private func bestLevelSplit(_ level: [Leaf], features: [Int]) -> LevelSplit? {
        var candidates = [LevelSplit?](repeating: nil, count: features.count)
        let buffers = level.map(\.histogram)
        candidates.withUnsafeMutableBufferPointer { slots in
            let out = SharedBuffer(base: slots.baseAddress!)
            let chunks = Parallel.chunks(features.count, minimum: 4)
            Parallel.forEach(chunks.count) { chunk in
                for i in chunks[chunk] {
                    out[i] = bestLevelSplit(feature: features[i], level: level, buffers: buffers)
                }
            }
        }
        var best: LevelSplit?
        for candidate in candidates { if let c = candidate, c.gain > (best?.gain ?? parameters.split.minSplitGain) { best = c } }
        return best
    }

    private func bestLevelSplit(feature: Int, level: [Leaf], buffers: [Int]) -> LevelSplit? {
        let mapper = binned.mappers[feature]
        let valueBins = mapper.valueBinCount
        guard valueBins >= 2 else { return nil }
        let s = Histogram.stride
        let categorical: Bool
        if case .categorical = mapper.kind { categorical = true } else { categorical = false }
        // gains[pass][bin]: summed over nodes; pass 0 sends missing values right, pass 1 left (numeric only).
        var gains = [[Double]](repeating: [Double](repeating: 0, count: valueBins), count: categorical ? 1 : 2)
        var anyMissing = false
        for (leaf, buffer) in zip(level, buffers) {
            let totals = leaf.totals
            guard totals.count >= 2 else { continue }
            let perHessian = finder.rowsPerHessian(totals)
            let parentScore = finder.score(totals.gradient, totals.hessian)
            pool[buffer].withUnsafeBufferPointer { histogram in
                let h = histogram.baseAddress! + binned.histogramOffsets[feature] * s
                func add(_ pass: Int, _ bin: Int, _ g: Double, _ hessian: Double) {
                    let left = SplitFinder.Totals(gradient: g, hessian: hessian, count: (hessian * perHessian).rounded())
                    let right = SplitFinder.Totals(gradient: totals.gradient - g, hessian: totals.hessian - hessian, count: totals.count - left.count)
                    guard finder.admissible(left), finder.admissible(right) else { return }
                    gains[pass][bin] += finder.score(left.gradient, left.hessian) + finder.score(right.gradient, right.hessian) - parentScore
                }
                if categorical {
                    for bin in 0..<valueBins where h[bin * s + 1] > 0 { add(0, bin, h[bin * s], h[bin * s + 1]) }
                    return
                }
                let missingG = h[valueBins * s], missingH = h[valueBins * s + 1]
                if missingH > 0 { anyMissing = true }
                var (g, hessian) = (0.0, 0.0)
                for bin in 0..<(valueBins - 1) {
                    g += h[bin * s]
                    hessian += h[bin * s + 1]
                    add(0, bin, g, hessian)
                    if missingH > 0 { add(1, bin, g + missingG, hessian + missingH) }
                }
            }
        }
        var best: LevelSplit?
        for pass in 0..<(anyMissing ? gains.count : 1) {
            for bin in 0..<valueBins where gains[pass][bin] > (best?.gain ?? 0) {
                best = LevelSplit(feature: feature, gain: gains[pass][bin], bin: bin, categorical: categorical, missingLeft: pass == 1)
            }
        }
        return best
    }

    /// The level's split as one node's `Split`, with that node's sides' sums from its histogram.
    private func splitOf(_ chosen: LevelSplit, _ leaf: Leaf) -> SplitFinder.Split {
        let s = Histogram.stride
        let mapper = binned.mappers[chosen.feature]
        var left = SplitFinder.Totals(gradient: 0, hessian: 0, count: 0)
        pool[leaf.histogram].withUnsafeBufferPointer { histogram in
            let h = histogram.baseAddress! + binned.histogramOffsets[chosen.feature] * s
            let bins = chosen.categorical ? [chosen.bin] : Array(0...chosen.bin) + (chosen.missingLeft ? [mapper.missingBin] : [])
            for bin in bins {
                left.gradient += h[bin * s]
                left.hessian += h[bin * s + 1]
            }
        }
        left.count = (left.hessian * finder.rowsPerHessian(leaf.totals)).rounded()
        let right = SplitFinder.Totals(gradient: leaf.totals.gradient - left.gradient, hessian: leaf.totals.hessian - left.hessian,
                                       count: leaf.totals.count - left.count)
        let gain = finder.score(left.gradient, left.hessian) + finder.score(right.gradient, right.hessian) - finder.score(leaf.totals.gradient, leaf.totals.hessian)
        return SplitFinder.Split(feature: chosen.feature, gain: gain, thresholdBin: chosen.categorical ? -1 : chosen.bin,
                                 leftBins: chosen.categorical ? [chosen.bin] : nil, defaultLeft: chosen.missingLeft, left: left, right: right)
    }
}
