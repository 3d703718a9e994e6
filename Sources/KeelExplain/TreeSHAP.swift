import KeelLearn

/// Exact Shapley values of one tree's output, by the polynomial-time path algorithm of Lundberg, Erion and
/// Lee (2018, "Consistent individualized feature attribution for tree ensembles", Algorithm 2).
///
/// Each node's children are weighted by their share of the node's cover (the training hessian or count
/// that reached them). The row's own path follows the same rule as prediction, so missing values take the
/// node's default direction and categorical splits test the node's category set: nothing else in the
/// algorithm depends on the kind of split.
final class TreeSHAP {
    private struct Element {
        var feature: Int
        var zeroFraction: Double
        var oneFraction: Double
        var weight: Double
    }

    let tree: Tree
    /// Storage for the path at every depth: the path at depth d lives in a slice of its own, so recursion
    /// can return to a parent's path without undoing work. Allocated once per tree and explainer.
    private let paths: UnsafeMutablePointer<Element>
    private let maxDepth: Int

    init(tree: Tree) {
        self.tree = tree
        maxDepth = Self.depth(tree, node: 0)
        let count = (maxDepth + 2) * (maxDepth + 3) / 2
        paths = .allocate(capacity: count)
        paths.initialize(repeating: Element(feature: -1, zeroFraction: 0, oneFraction: 0, weight: 0), count: count)
    }

    deinit {
        paths.deallocate()
    }

    /// The tree's expected output over the training distribution its covers describe.
    static func expectedValue(_ tree: Tree, node: Int = 0) -> Double {
        guard tree.feature[node] >= 0 else { return tree.value[node] }
        let l = Int(tree.left[node]), r = Int(tree.right[node])
        let (wl, wr) = fractions(tree, node: node, l, r)
        return wl * expectedValue(tree, node: l) + wr * expectedValue(tree, node: r)
    }

    /// Adds `scale` × this tree's attributions for the row `value(f)` to `phi[f]`.
    func accumulate(_ value: (Int) -> Double, scale: Double, into phi: UnsafeMutablePointer<Double>) {
        recurse(node: 0, path: paths, depth: 0, zero: 1, one: 1, feature: -1, value: value, scale: scale, phi: phi)
    }

    private func recurse(node: Int, path parentPath: UnsafeMutablePointer<Element>, depth parentDepth: Int, zero: Double,
                         one: Double, feature: Int, value: (Int) -> Double, scale: Double, phi: UnsafeMutablePointer<Double>) {
        // The child's path starts as a copy of the parent's, placed just after it (the root's is the first slot).
        let path = node == 0 ? parentPath : parentPath + (parentDepth + 1)
        if node != 0 { path.update(from: parentPath, count: parentDepth + 1) }
        var depth = parentDepth
        Self.extend(path, depth: depth, zero: zero, one: one, feature: feature)
        let split = Int(tree.feature[node])
        if split < 0 {
            let leafValue = tree.value[node] * scale
            if depth > 0 {
                for i in 1...depth {
                    let w = Self.unwoundSum(path, depth: depth, index: i)
                    phi[path[i].feature] += w * (path[i].oneFraction - path[i].zeroFraction) * leafValue
                }
            }
            return
        }
        let l = Int(tree.left[node]), r = Int(tree.right[node])
        let goesLeft = Self.goesLeft(tree, node: node, value(split))
        let (hot, cold) = goesLeft ? (l, r) : (r, l)
        let (wl, wr) = Self.fractions(tree, node: node, l, r)
        let (hotFraction, coldFraction) = goesLeft ? (wl, wr) : (wr, wl)
        var incomingZero = 1.0
        var incomingOne = 1.0
        // A feature met again on the path is undone first, so each feature appears once.
        if depth > 0, let k = (1...depth).first(where: { path[$0].feature == split }) {
            incomingZero = path[k].zeroFraction
            incomingOne = path[k].oneFraction
            Self.unwind(path, depth: depth, index: k)
            depth -= 1
        }
        recurse(node: hot, path: path, depth: depth + 1, zero: hotFraction * incomingZero, one: incomingOne, feature: split,
                value: value, scale: scale, phi: phi)
        recurse(node: cold, path: path, depth: depth + 1, zero: coldFraction * incomingZero, one: 0, feature: split,
                value: value, scale: scale, phi: phi)
    }

    private static func extend(_ path: UnsafeMutablePointer<Element>, depth d: Int, zero: Double, one: Double, feature: Int) {
        path[d] = Element(feature: feature, zeroFraction: zero, oneFraction: one, weight: d == 0 ? 1 : 0)
        guard d > 0 else { return }
        let n = Double(d + 1)
        for i in stride(from: d - 1, through: 0, by: -1) {
            path[i + 1].weight += one * path[i].weight * Double(i + 1) / n
            path[i].weight = zero * path[i].weight * Double(d - i) / n
        }
    }

    private static func unwind(_ path: UnsafeMutablePointer<Element>, depth d: Int, index: Int) {
        let one = path[index].oneFraction, zero = path[index].zeroFraction
        let n = Double(d + 1)
        var next = path[d].weight
        for i in stride(from: d - 1, through: 0, by: -1) {
            if one != 0 {
                let previous = path[i].weight
                path[i].weight = next * n / (Double(i + 1) * one)
                next = previous - path[i].weight * zero * Double(d - i) / n
            } else {
                path[i].weight = path[i].weight * n / (zero * Double(d - i))
            }
        }
        for i in index..<d {
            path[i].feature = path[i + 1].feature
            path[i].zeroFraction = path[i + 1].zeroFraction
            path[i].oneFraction = path[i + 1].oneFraction
        }
    }

    private static func unwoundSum(_ path: UnsafeMutablePointer<Element>, depth d: Int, index: Int) -> Double {
        let one = path[index].oneFraction, zero = path[index].zeroFraction
        let n = Double(d + 1)
        var next = path[d].weight
        var total = 0.0
        for i in stride(from: d - 1, through: 0, by: -1) {
            if one != 0 {
                let share = next * n / (Double(i + 1) * one)
                total += share
                next = path[i].weight - share * zero * Double(d - i) / n
            } else if zero != 0 {
                total += path[i].weight / zero / (Double(d - i) / n)
            }
        }
        return total
    }

    @inline(__always)
    static func goesLeft(_ tree: Tree, node: Int, _ x: Double) -> Bool {
        if x.isNaN { return tree.defaultLeft[node] }
        let set = Int(tree.categorySet[node])
        if set < 0 { return x <= tree.threshold[node] }
        guard x >= 0 else { return false }
        let code = Int(x)
        let words = tree.categorySets[set]
        return code >> 6 < words.count && words[code >> 6] & (1 << UInt64(code & 63)) != 0
    }

    /// The children's shares of the node's cover (even when the cover is missing, as in hand-built trees).
    static func fractions(_ tree: Tree, node: Int, _ l: Int, _ r: Int) -> (Double, Double) {
        let total = tree.cover[l] + tree.cover[r]
        guard total > 0 else { return (0.5, 0.5) }
        return (tree.cover[l] / total, tree.cover[r] / total)
    }

    private static func depth(_ tree: Tree, node: Int) -> Int {
        guard tree.feature[node] >= 0 else { return 0 }
        return 1 + max(depth(tree, node: Int(tree.left[node])), depth(tree, node: Int(tree.right[node])))
    }
}
