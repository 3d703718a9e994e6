/// A decision tree as flat arrays, one entry per node (struct of arrays), shared by training, prediction,
/// explanation and export. Node 0 is the root; a node with `feature == -1` is a leaf.
///
/// Numeric nodes send a row left when its value is `<= threshold`; categorical nodes when its level code is
/// in the node's category set. Missing values follow `defaultLeft`; levels outside a category set, unseen
/// levels and missing categories go right.
public struct Tree: Codable, Sendable, Equatable {
    public var feature: [Int32] = []
    public var threshold: [Double] = []
    /// Index into `categorySets` for categorical splits, -1 for numeric splits and leaves.
    public var categorySet: [Int32] = []
    public var defaultLeft: [Bool] = []
    public var left: [Int32] = []
    public var right: [Int32] = []
    /// Leaf output (already scaled by the learning rate); for internal nodes the output they would have had.
    public var value: [Double] = []
    /// Sum of hessians of the training rows that reached the node (TreeSHAP uses it as the node's weight).
    public var cover: [Double] = []
    public var count: [Int32] = []
    public var gain: [Double] = []
    /// Bitsets over level codes (64 per word) of the categories that go left.
    public var categorySets: [[UInt64]] = []

    /// An empty tree, filled by a learner's `split`s or, in tests and importers, by setting the arrays.
    public init() {}

    public var nodeCount: Int { feature.count }
    public var leafCount: Int { feature.reduce(0) { $0 + ($1 < 0 ? 1 : 0) } }

    mutating func addLeaf(value: Double, cover: Double, count: Int) -> Int32 {
        feature.append(-1)
        threshold.append(0)
        categorySet.append(-1)
        defaultLeft.append(false)
        left.append(-1)
        right.append(-1)
        self.value.append(value)
        self.cover.append(cover)
        self.count.append(Int32(count))
        gain.append(0)
        return Int32(feature.count - 1)
    }

    /// Turns leaf `node` into a split with two new leaf children; returns their indices.
    mutating func split(_ node: Int32, feature splitFeature: Int, threshold splitThreshold: Double, categories: [UInt64]?,
                        defaultLeft goesLeft: Bool, gain splitGain: Double,
                        leftLeaf: (value: Double, cover: Double, count: Int), rightLeaf: (value: Double, cover: Double, count: Int)) -> (Int32, Int32) {
        let n = Int(node)
        feature[n] = Int32(splitFeature)
        threshold[n] = splitThreshold
        if let categories {
            categorySet[n] = Int32(categorySets.count)
            categorySets.append(categories)
        }
        defaultLeft[n] = goesLeft
        gain[n] = splitGain
        let l = addLeaf(value: leftLeaf.value, cover: leftLeaf.cover, count: leftLeaf.count)
        let r = addLeaf(value: rightLeaf.value, cover: rightLeaf.cover, count: rightLeaf.count)
        left[n] = l
        right[n] = r
        return (l, r)
    }

    /// The leaf a row reaches; `value(f)` gives the row's value of feature `f` (NaN = missing).
    @inline(__always)
    public func leaf(_ value: (Int) -> Double) -> Int {
        var node = 0
        while feature[node] >= 0 {
            let x = value(Int(feature[node]))
            let goLeft: Bool
            if x.isNaN {
                goLeft = defaultLeft[node]
            } else if categorySet[node] < 0 {
                goLeft = x <= threshold[node]
            } else {
                goLeft = Self.contains(categorySets[Int(categorySet[node])], code: x)
            }
            node = Int(goLeft ? left[node] : right[node])
        }
        return node
    }

    /// Whether a categorical split's level set (bits over level codes) holds `code`.
    @inline(__always)
    public static func contains(_ set: [UInt64], code: Double) -> Bool {
        guard code >= 0 else { return false }
        let c = Int(code)
        let word = c >> 6
        return word < set.count && set[word] & (1 << UInt64(c & 63)) != 0
    }

    /// Adds this tree's output for every row of `matrix` to `scores[offset + row * stride]`. (Boosted
    /// models predict through `PackedTrees`, which is faster for many trees.)
    func addPredictions(_ matrix: FeatureMatrix, rows: Range<Int>, to scores: UnsafeMutablePointer<Double>, stride: Int, offset: Int) {
        matrix.values.withUnsafeBufferPointer { values in
            let n = matrix.rowCount
            for row in rows {
                let leaf = leaf { values[$0 * n + row] }
                scores[offset + row * stride] += value[leaf]
            }
        }
    }
}
