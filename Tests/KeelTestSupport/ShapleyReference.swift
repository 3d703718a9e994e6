import KeelData
import KeelLearn

/// Shapley values by their definition, for checking TreeSHAP: every subset of the features a tree splits on
/// is enumerated, with the tree-path-dependent value function v(S): the row's own direction at splits on
/// features in S, and elsewhere the children averaged by their share of the node's cover (half each when
/// neither child has any cover, as in a symmetric tree's empty branches). Exponential in the number of
/// distinct features a tree uses, so for small trees only.
public enum ShapleyReference {
    /// The Shapley values of `tree`'s output for `row` of `matrix`, one per feature of the matrix.
    public static func values(_ tree: Tree, matrix: FeatureMatrix, row: Int) -> [Double] {
        let used = Array(Set(tree.feature.filter { $0 >= 0 }.map(Int.init))).sorted()
        var phi = [Double](repeating: 0, count: matrix.featureCount)
        let m = used.count
        guard m > 0 else { return phi }
        func value(_ subset: Int) -> Double {
            expected(tree, node: 0) { feature in
                guard let position = used.firstIndex(of: feature), subset & (1 << position) != 0 else { return nil }
                return matrix.value(row: row, feature: feature)
            }
        }
        var cache = [Double](repeating: 0, count: 1 << m)
        for subset in 0..<(1 << m) { cache[subset] = value(subset) }
        var factorial = [Double](repeating: 1, count: m + 1)
        for k in 1...m { factorial[k] = factorial[k - 1] * Double(k) }
        for (i, feature) in used.enumerated() {
            var total = 0.0
            for subset in 0..<(1 << m) where subset & (1 << i) == 0 {
                let size = subset.nonzeroBitCount
                let weight = factorial[size] * factorial[m - size - 1] / factorial[m]
                total += weight * (cache[subset | (1 << i)] - cache[subset])
            }
            phi[feature] = total
        }
        return phi
    }

    /// The tree's expected output given the known features (`known(f)` is the row's value, nil when unknown).
    public static func expected(_ tree: Tree, node: Int, known: (Int) -> Double?) -> Double {
        let f = Int(tree.feature[node])
        guard f >= 0 else { return tree.value[node] }
        let l = Int(tree.left[node]), r = Int(tree.right[node])
        if let x = known(f) {
            return expected(tree, node: goesLeft(tree, node: node, x) ? l : r, known: known)
        }
        let total = tree.cover[l] + tree.cover[r]
        let (wl, wr) = total > 0 ? (tree.cover[l] / total, tree.cover[r] / total) : (0.5, 0.5)
        return wl * expected(tree, node: l, known: known) + wr * expected(tree, node: r, known: known)
    }

    /// The direction prediction takes at `node` (`Tree.leaf`'s rule, written out again here on purpose).
    public static func goesLeft(_ tree: Tree, node: Int, _ x: Double) -> Bool {
        if x.isNaN { return tree.defaultLeft[node] }
        let set = Int(tree.categorySet[node])
        if set < 0 { return x <= tree.threshold[node] }
        guard x >= 0 else { return false }
        let code = Int(x)
        let words = tree.categorySets[set]
        return code >> 6 < words.count && words[code >> 6] & (1 << UInt64(code & 63)) != 0
    }
}

/// Seeded random trees of every kind Keel grows, for property checks of anything that walks trees:
/// leaf-wise trees (uneven depth, a feature met again below itself) and symmetric trees (one split per
/// level, the same feature possibly on two levels), numeric and categorical splits, missing values sent
/// either way, and covers with empty branches (zero cover), which symmetric trees have.
public struct RandomTrees: Sendable {
    /// The matrix the trees split: `numeric` numeric features (about 15% missing) and one categorical
    /// feature (the last) with 8 levels and some missing values.
    public let matrix: FeatureMatrix
    public let numeric: Int
    public static let levels = 8

    public init(rows: Int, numeric: Int = 4, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        var values = [Double](repeating: 0, count: rows * (numeric + 1))
        for f in 0..<numeric {
            for i in 0..<rows { values[f * rows + i] = g.nextUnit() < 0.15 ? .nan : (g.nextUnit() * 2 - 1).rounded(toPlaces: 2) }
        }
        for i in 0..<rows { values[numeric * rows + i] = g.nextUnit() < 0.1 ? .nan : Double(g.next(below: Self.levels)) }
        matrix = FeatureMatrix(rowCount: rows, kinds: Array(repeating: .numeric, count: numeric) + [.categorical], values: values)
        self.numeric = numeric
    }

    /// A random tree: symmetric of `depth` levels, or leaf-wise with up to `depth` levels.
    public func tree(symmetric: Bool, depth: Int, seed: UInt64) -> Tree {
        var g = SeededGenerator(seed: seed)
        var tree = Tree()
        let featureCount = numeric + 1
        // One split per level for symmetric trees.
        let levelSplits = (0..<depth).map { _ in randomSplit(&g, featureCount: featureCount) }
        func node(level: Int) -> Int {
            let index = tree.feature.count
            tree.feature.append(-1)
            tree.threshold.append(0)
            tree.categorySet.append(-1)
            tree.defaultLeft.append(false)
            tree.left.append(-1)
            tree.right.append(-1)
            tree.value.append(0)
            tree.cover.append(0)
            tree.count.append(0)
            tree.gain.append(0)
            let isLeaf = level == depth || (!symmetric && level > 0 && g.nextUnit() < 0.3)
            if isLeaf {
                tree.value[index] = (g.nextUnit() * 4 - 2).rounded(toPlaces: 3)
                // A quarter of the leaves are empty: no training row reached them.
                let cover = g.nextUnit() < 0.25 ? 0 : Double(1 + g.next(below: 50))
                tree.cover[index] = cover
                tree.count[index] = Int32(cover)
                return index
            }
            let split = symmetric ? levelSplits[level] : randomSplit(&g, featureCount: featureCount)
            tree.feature[index] = Int32(split.feature)
            tree.threshold[index] = split.threshold
            tree.defaultLeft[index] = split.defaultLeft
            if let set = split.categories {
                tree.categorySet[index] = Int32(tree.categorySets.count)
                tree.categorySets.append(set)
            }
            let l = node(level: level + 1)
            let r = node(level: level + 1)
            tree.left[index] = Int32(l)
            tree.right[index] = Int32(r)
            tree.cover[index] = tree.cover[l] + tree.cover[r]
            tree.count[index] = tree.count[l] + tree.count[r]
            tree.value[index] = tree.cover[index] > 0 ? (tree.value[l] * tree.cover[l] + tree.value[r] * tree.cover[r]) / tree.cover[index] : 0
            return index
        }
        _ = node(level: 0)
        return tree
    }

    private struct Split {
        var feature: Int
        var threshold: Double
        var defaultLeft: Bool
        var categories: [UInt64]?
    }

    private func randomSplit(_ g: inout SeededGenerator, featureCount: Int) -> Split {
        // Few features, so the same one recurs on a path.
        let feature = g.next(below: featureCount)
        let defaultLeft = g.nextUnit() < 0.5
        if feature == numeric {
            var bits: UInt64 = 0
            for level in 0..<Self.levels where g.nextUnit() < 0.5 { bits |= 1 << UInt64(level) }
            return Split(feature: feature, threshold: 0, defaultLeft: defaultLeft, categories: [bits])
        }
        return Split(feature: feature, threshold: (g.nextUnit() * 1.6 - 0.8).rounded(toPlaces: 2), defaultLeft: defaultLeft, categories: nil)
    }
}

private extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}
