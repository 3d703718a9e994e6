import KeelData

/// Grows one tree leaf-wise (best-first: the leaf whose best split gains most is split next) or, for fully
/// grown forest trees, depth-first; until `maxLeaves` leaves, `maxDepth`, or no split gains anything.
///
/// One index array holds the rows; each leaf owns a contiguous range of it, split in place when the leaf
/// splits, so nothing is allocated per node. Only the smaller child's histogram is built from rows; the
/// larger child's is the parent's minus the smaller (LightGBM's subtraction trick), computed in the
/// parent's buffer. Histogram buffers come from a pool that lives as long as the grower.
final class TreeGrower {
    struct Parameters: Sendable {
        var maxLeaves = 31
        /// 0 means unlimited.
        var maxDepth = 0
        var split = SplitFinder.Parameters()
        /// Features drawn at random for each split (random forests); 0 means all.
        var featuresPerSplit = 0
        /// One random threshold per feature instead of the best one (extremely randomised trees).
        var randomThresholds = false
        /// Per feature: +1 / −1 when the output must rise / fall with it, 0 (or an empty array) when free.
        var monotone: [Int] = []
        /// Split the newest splittable leaf first. Fully grown trees use it so that only the histograms of
        /// one root-to-leaf path's pending siblings are alive, not those of a whole frontier.
        var depthFirst = false
        /// Grow a symmetric (oblivious) tree of this depth instead, as CatBoost does; 0: leaf-wise.
        var symmetricDepth = 0
    }

    struct Leaf {
        var node: Int32
        var begin: Int
        var count: Int
        var depth: Int
        var totals: SplitFinder.Totals
        var histogram: Int
        var best: SplitFinder.Split?
        var bounds = SplitFinder.Bounds()
    }

    let binned: BinnedMatrix
    let parameters: Parameters
    let finder: SplitFinder
    var pool: [[HistogramSum]] = []
    var freeBuffers: [Int] = []
    var rows: [Int32] = []
    private var scratchRows: [Int32] = []
    private var partialHistograms: [HistogramSum] = []
    private var generator = SeededGenerator(seed: 0)

    init(binned: BinnedMatrix, parameters: Parameters) {
        self.binned = binned
        self.parameters = parameters
        finder = SplitFinder(parameters: parameters.split)
    }

    /// The grown tree (leaf values scaled by `learningRate`) and, per leaf node, the rows that reached it.
    func grow(gradients: UnsafePointer<GradientValue>, hessians: UnsafePointer<GradientValue>, rows bag: [Int32],
              features: [Int], learningRate: Double, seed: UInt64 = 0) -> (tree: Tree, leafRows: [(node: Int32, rows: ArraySlice<Int32>)]) {
        if parameters.symmetricDepth > 0 {
            return growSymmetric(gradients: gradients, hessians: hessians, rows: bag, features: features, learningRate: learningRate)
        }
        generator = SeededGenerator(seed: seed)
        var (tree, root) = start(gradients: gradients, hessians: hessians, rows: bag, features: features, learningRate: learningRate)
        var leaves = [root]
        leaves[0].best = bestSplit(leaves[0], features: features)
        releaseIfFinal(&leaves[0])
        // Depth-first: the splittable leaves as a stack; best-first: a scan (at most `maxLeaves` leaves).
        var stack = leaves[0].best == nil ? [] : [0]

        while leaves.count < parameters.maxLeaves {
            let next = parameters.depthFirst
                ? stack.popLast()
                : leaves.indices.filter({ leaves[$0].best != nil }).max(by: { leaves[$0].best!.gain < leaves[$1].best!.gain })
            guard let index = next else { break }
            let parent = leaves[index]
            let split = parent.best!
            let leftCount = partition(parent, split)
            let (leftNode, rightNode) = tree.split(
                parent.node, feature: split.feature, threshold: threshold(split), categories: categorySet(split),
                defaultLeft: split.defaultLeft, gain: split.gain,
                leftLeaf: (split.leftOutput * learningRate, split.left.hessian, leftCount),
                rightLeaf: (split.rightOutput * learningRate, split.right.hessian, parent.count - leftCount))
            var left = Leaf(node: leftNode, begin: parent.begin, count: leftCount, depth: parent.depth + 1,
                            totals: split.left, histogram: -1, best: nil)
            var right = Leaf(node: rightNode, begin: parent.begin + leftCount, count: parent.count - leftCount,
                             depth: parent.depth + 1, totals: split.right, histogram: -1, best: nil)
            (left.bounds, right.bounds) = childBounds(parent.bounds, split)
            let leftIsSmaller = left.count <= right.count
            let smallerBuffer = acquire()
            if leftIsSmaller { (left.histogram, right.histogram) = (smallerBuffer, parent.histogram) }
            else { (left.histogram, right.histogram) = (parent.histogram, smallerBuffer) }
            buildHistogram(of: leftIsSmaller ? left : right, gradients: gradients, hessians: hessians, features: features)
            subtract(smallerBuffer, from: parent.histogram)
            left.best = bestSplit(left, features: features)
            right.best = bestSplit(right, features: features)
            releaseIfFinal(&left)
            releaseIfFinal(&right)
            leaves[index] = left
            leaves.append(right)
            if left.best != nil { stack.append(index) }
            if right.best != nil { stack.append(leaves.count - 1) }
        }
        let leafRows = leaves.map { (node: $0.node, rows: rows[$0.begin..<($0.begin + $0.count)]) }
        return (tree, leafRows)
    }

    // MARK: Pieces

    /// A tree of one leaf holding every row of `bag`, with its histogram built.
    func start(gradients: UnsafePointer<GradientValue>, hessians: UnsafePointer<GradientValue>, rows bag: [Int32],
               features: [Int], learningRate: Double) -> (Tree, Leaf) {
        rows = bag
        freeBuffers = Array(pool.indices)
        var totals = SplitFinder.Totals(gradient: 0, hessian: 0, count: Double(bag.count))
        for row in bag {
            totals.gradient += HistogramSum(gradients[Int(row)])
            totals.hessian += HistogramSum(hessians[Int(row)])
        }
        var tree = Tree()
        let node = tree.addLeaf(value: finder.leafOutput(totals) * learningRate, cover: totals.hessian, count: bag.count)
        let root = Leaf(node: node, begin: 0, count: bag.count, depth: 0, totals: totals, histogram: acquire(), best: nil)
        buildHistogram(of: root, gradients: gradients, hessians: hessians, features: features)
        return (tree, root)
    }

    /// Below a monotonic split the two sides meet at the midpoint of their outputs, so every leaf on the
    /// low side stays at or under every leaf on the high side, however deep the tree grows.
    private func childBounds(_ parent: SplitFinder.Bounds, _ split: SplitFinder.Split) -> (SplitFinder.Bounds, SplitFinder.Bounds) {
        let constraint = parameters.monotone.isEmpty ? 0 : parameters.monotone[split.feature]
        guard constraint != 0 else { return (parent, parent) }
        let middle = (split.leftOutput + split.rightOutput) / 2
        var (left, right) = (parent, parent)
        if constraint > 0 {
            left.upper = min(left.upper, middle)
            right.lower = max(right.lower, middle)
        } else {
            left.lower = max(left.lower, middle)
            right.upper = min(right.upper, middle)
        }
        return (left, right)
    }

    /// A leaf that cannot split needs its histogram no more; its buffer goes back to the pool.
    private func releaseIfFinal(_ leaf: inout Leaf) {
        guard leaf.best == nil, leaf.histogram >= 0 else { return }
        freeBuffers.append(leaf.histogram)
        leaf.histogram = -1
    }

    func acquire() -> Int {
        if let index = freeBuffers.popLast() { return index }
        pool.append([HistogramSum](repeating: 0, count: binned.totalBins * Histogram.stride))
        return pool.count - 1
    }

    func buildHistogram(of leaf: Leaf, gradients: UnsafePointer<GradientValue>, hessians: UnsafePointer<GradientValue>, features: [Int]) {
        rows.withUnsafeBufferPointer { all in
            let leafRows = UnsafeBufferPointer(rebasing: all[leaf.begin..<(leaf.begin + leaf.count)])
            pool[leaf.histogram].withUnsafeMutableBufferPointer { histogram in
                Histogram.build(binned: binned, rows: leafRows, gradients: gradients, hessians: hessians,
                                features: features, scratch: &partialHistograms, into: histogram.baseAddress!)
            }
        }
    }

    func subtract(_ smaller: Int, from parent: Int) {
        let count = binned.totalBins * Histogram.stride
        pool[smaller].withUnsafeBufferPointer { small in
            pool[parent].withUnsafeMutableBufferPointer { Histogram.subtract(small.baseAddress!, from: $0.baseAddress!, count: count) }
        }
    }

    private func bestSplit(_ leaf: Leaf, features allFeatures: [Int]) -> SplitFinder.Split? {
        if parameters.maxDepth > 0, leaf.depth >= parameters.maxDepth { return nil }
        if leaf.count < 2 * parameters.split.minChildRows { return nil }
        var features = allFeatures
        if parameters.featuresPerSplit > 0, parameters.featuresPerSplit < features.count {
            generator.shuffle(&features)
            features = features.prefix(parameters.featuresPerSplit).sorted()
        }
        // Random draws are made here, in feature order, so the parallel evaluation below cannot change them.
        let draws = parameters.randomThresholds ? features.map { _ in generator.next() } : []
        var candidates = [SplitFinder.Split?](repeating: nil, count: features.count)
        pool[leaf.histogram].withUnsafeBufferPointer { histogram in
            candidates.withUnsafeMutableBufferPointer { slots in
                let out = SharedBuffer(base: slots.baseAddress!)
                let chunks = Parallel.chunks(features.count, minimum: 8)
                Parallel.forEach(chunks.count) { chunk in
                    for i in chunks[chunk] {
                        let feature = features[i]
                        let start = histogram.baseAddress! + binned.histogramOffsets[feature] * Histogram.stride
                        let mapper = binned.mappers[feature]
                        let constraint = parameters.monotone.isEmpty ? 0 : parameters.monotone[feature]
                        out[i] = draws.isEmpty
                            ? finder.best(feature: feature, histogram: start, mapper: mapper, totals: leaf.totals, constraint: constraint, bounds: leaf.bounds)
                            : finder.random(feature: feature, histogram: start, mapper: mapper, totals: leaf.totals, draw: draws[i])
                    }
                }
            }
        }
        // Ties go to the lowest feature index, so the result never depends on scheduling.
        var best: SplitFinder.Split?
        for candidate in candidates { if let c = candidate, c.gain > (best?.gain ?? 0) { best = c } }
        return best
    }

    /// Reorders the leaf's rows so those going left come first, keeping their order; returns how many go
    /// left. Large leaves are cut into fixed chunks partitioned in parallel, then stitched in chunk order.
    func partition(_ leaf: Leaf, _ split: SplitFinder.Split) -> Int {
        let mapper = binned.mappers[split.feature]
        var goesLeft = [Bool](repeating: false, count: mapper.totalBins)
        if let bins = split.leftBins { for bin in bins { goesLeft[bin] = true } } else {
            for bin in 0...split.thresholdBin { goesLeft[bin] = true }
            goesLeft[mapper.missingBin] = split.defaultLeft
        }
        if scratchRows.count < leaf.count { scratchRows = [Int32](repeating: 0, count: leaf.count) }
        let chunkCount = min(Parallel.coreCount, max(1, leaf.count / 16_384))
        let size = (leaf.count + chunkCount - 1) / chunkCount
        var leftCounts = [Int](repeating: 0, count: chunkCount)
        binned.columns.withUnsafeBufferPointer { bins in
            rows.withUnsafeMutableBufferPointer { rows in
                scratchRows.withUnsafeMutableBufferPointer { spill in
                    goesLeft.withUnsafeBufferPointer { goesLeft in
                        leftCounts.withUnsafeMutableBufferPointer { counts in
                            let column = bins.baseAddress! + split.feature * binned.rowCount
                            let (rowOut, spillOut, countOut) = (SharedBuffer(base: rows.baseAddress!), SharedBuffer(base: spill.baseAddress!),
                                                                SharedBuffer(base: counts.baseAddress!))
                            // Each chunk writes its left rows to the front of its own range, its right rows to the
                            // same range of the spill buffer.
                            Parallel.forEach(chunkCount) { c in
                                let start = leaf.begin + c * size
                                let count = min(size, leaf.count - c * size)
                                var left = 0
                                var right = 0
                                for i in 0..<count {
                                    let row = rowOut[start + i]
                                    if goesLeft[Int(column[Int(row)])] {
                                        rowOut[start + left] = row
                                        left &+= 1
                                    } else {
                                        spillOut[c * size + right] = row
                                        right &+= 1
                                    }
                                }
                                countOut[c] = left
                            }
                            // Stitch: all left runs, in chunk order, then all right runs.
                            var write = leaf.begin
                            for c in 0..<chunkCount {
                                let start = leaf.begin + c * size
                                if start != write { (rows.baseAddress! + write).update(from: rows.baseAddress! + start, count: counts[c]) }
                                write += counts[c]
                            }
                            for c in 0..<chunkCount {
                                let right = min(size, leaf.count - c * size) - counts[c]
                                (rows.baseAddress! + write).update(from: spill.baseAddress! + c * size, count: right)
                                write += right
                            }
                        }
                    }
                }
            }
        }
        return leftCounts.reduce(0, +)
    }

    func threshold(_ split: SplitFinder.Split) -> Double {
        guard split.leftBins == nil, case .numeric(let bounds) = binned.mappers[split.feature].kind else { return 0 }
        return bounds[split.thresholdBin]
    }

    func categorySet(_ split: SplitFinder.Split) -> [UInt64]? {
        guard let bins = split.leftBins, case .categorical(let codes) = binned.mappers[split.feature].kind else { return nil }
        let leftCodes = bins.map { codes[$0] }
        var set = [UInt64](repeating: 0, count: (leftCodes.max()! >> 6) + 1)
        for code in leftCodes { set[code >> 6] |= 1 << UInt64(code & 63) }
        return set
    }
}
