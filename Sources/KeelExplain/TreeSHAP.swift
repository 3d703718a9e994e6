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
    /// The tree's arrays copied to raw memory, and each node's children's shares of its cover: the
    /// recursion reads them millions of times, so they are plain loads without bounds or ownership checks.
    private let feature: UnsafeMutablePointer<Int32>
    private let threshold: UnsafeMutablePointer<Double>
    private let categorySet: UnsafeMutablePointer<Int32>
    private let defaultLeft: UnsafeMutablePointer<Bool>
    private let left: UnsafeMutablePointer<Int32>
    private let right: UnsafeMutablePointer<Int32>
    private let value: UnsafeMutablePointer<Double>
    private let leftShare: UnsafeMutablePointer<Double>
    /// Storage for the path at every depth: the path at depth d lives in a slice of its own, so recursion
    /// can return to a parent's path without undoing work. Allocated once per tree and explainer.
    private let paths: UnsafeMutablePointer<Element>
    /// `inverse[k] = 1 / k` for every k a path length can take.
    private let inverse: UnsafeMutablePointer<Double>

    init(tree: Tree) {
        self.tree = tree
        func copy<T>(_ array: [T]) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(array.count, 1))
            _ = array.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: array.count) }
            return pointer
        }
        feature = copy(tree.feature)
        threshold = copy(tree.threshold)
        categorySet = copy(tree.categorySet)
        defaultLeft = copy(tree.defaultLeft)
        left = copy(tree.left)
        right = copy(tree.right)
        value = copy(tree.value)
        leftShare = copy(tree.feature.indices.map { node in
            tree.feature[node] < 0 ? 0 : Self.fractions(tree, node: node, Int(tree.left[node]), Int(tree.right[node])).0
        })
        let maxDepth = Self.depth(tree, node: 0)
        let pathCount = (maxDepth + 2) * (maxDepth + 3) / 2
        paths = .allocate(capacity: pathCount)
        paths.initialize(repeating: Element(feature: -1, zeroFraction: 0, oneFraction: 0, weight: 0), count: pathCount)
        inverse = .allocate(capacity: maxDepth + 4)
        inverse[0] = 0
        for k in 1..<(maxDepth + 4) { inverse[k] = 1 / Double(k) }
    }

    deinit {
        for pointer in [UnsafeMutableRawPointer(feature), UnsafeMutableRawPointer(threshold), UnsafeMutableRawPointer(categorySet),
                        UnsafeMutableRawPointer(defaultLeft), UnsafeMutableRawPointer(left), UnsafeMutableRawPointer(right),
                        UnsafeMutableRawPointer(value), UnsafeMutableRawPointer(leftShare)] {
            pointer.deallocate()
        }
        paths.deallocate()
        inverse.deallocate()
    }

    /// The tree's expected output over the training distribution its covers describe.
    static func expectedValue(_ tree: Tree, node: Int = 0) -> Double {
        guard tree.feature[node] >= 0 else { return tree.value[node] }
        let l = Int(tree.left[node]), r = Int(tree.right[node])
        let (wl, wr) = fractions(tree, node: node, l, r)
        return wl * expectedValue(tree, node: l) + wr * expectedValue(tree, node: r)
    }

    /// Adds `scale` × this tree's attributions for one row to `phi[f]`; the row's value of feature `f` is
    /// `x[f * stride]` (a column-major matrix seen from the row's first cell).
    func accumulate(_ x: UnsafePointer<Double>, stride: Int, scale: Double, into phi: UnsafeMutablePointer<Double>) {
        recurse(node: 0, path: paths, depth: 0, zero: 1, one: 1, feature: -1, x: x, stride: stride, scale: scale, phi: phi)
    }

    private func recurse(node: Int, path parentPath: UnsafeMutablePointer<Element>, depth parentDepth: Int, zero: Double,
                         one: Double, feature splitOfParent: Int, x: UnsafePointer<Double>, stride: Int, scale: Double,
                         phi: UnsafeMutablePointer<Double>) {
        // The child's path starts as a copy of the parent's, placed just after it (the root's is the first slot).
        let path = node == 0 ? parentPath : parentPath + (parentDepth + 1)
        if node != 0 { path.update(from: parentPath, count: parentDepth + 1) }
        var depth = parentDepth
        extend(path, depth: depth, zero: zero, one: one, feature: splitOfParent)
        let split = Int(feature[node])
        if split < 0 {
            let leafValue = value[node] * scale
            var i = 1
            while i <= depth {
                let w = unwoundSum(path, depth: depth, index: i)
                phi[path[i].feature] += w * (path[i].oneFraction - path[i].zeroFraction) * leafValue
                i += 1
            }
            return
        }
        let l = Int(left[node]), r = Int(right[node])
        let goesLeft = self.goesLeft(node, x[split &* stride])
        let share = leftShare[node]
        let (hot, cold, hotFraction, coldFraction) = goesLeft ? (l, r, share, 1 - share) : (r, l, 1 - share, share)
        var incomingZero = 1.0
        var incomingOne = 1.0
        // A feature met again on the path is undone first, so each feature appears once.
        var k = 1
        while k <= depth, path[k].feature != split { k += 1 }
        if k <= depth {
            incomingZero = path[k].zeroFraction
            incomingOne = path[k].oneFraction
            unwind(path, depth: depth, index: k)
            depth -= 1
        }
        // A child that neither the row nor the training data reaches (no cover: symmetric trees have empty
        // leaves) carries weight zero on every path through it, so its subtree adds nothing. It is skipped
        // rather than walked: unwinding a feature met again below it would divide by its zero fraction.
        let hotZero = hotFraction * incomingZero
        if hotZero != 0 || incomingOne != 0 {
            recurse(node: hot, path: path, depth: depth + 1, zero: hotZero, one: incomingOne, feature: split,
                    x: x, stride: stride, scale: scale, phi: phi)
        }
        let coldZero = coldFraction * incomingZero
        if coldZero != 0 {
            recurse(node: cold, path: path, depth: depth + 1, zero: coldZero, one: 0, feature: split,
                    x: x, stride: stride, scale: scale, phi: phi)
        }
    }

    /// The row's direction at `node`, by the rule prediction uses (`Tree.leaf`).
    @inline(__always)
    private func goesLeft(_ node: Int, _ x: Double) -> Bool {
        if x.isNaN { return defaultLeft[node] }
        let set = Int(categorySet[node])
        if set < 0 { return x <= threshold[node] }
        return Tree.contains(tree.categorySets[set], code: x)
    }

    // The three path operations below are the algorithm's inner loops. Divisions are replaced by products
    // with precomputed reciprocals (`inverse[k] = 1 / k`): a division's latency would otherwise chain
    // through every step, since each step needs the previous one's result.

    @inline(__always)
    private func extend(_ path: UnsafeMutablePointer<Element>, depth d: Int, zero: Double, one: Double, feature: Int) {
        path[d] = Element(feature: feature, zeroFraction: zero, oneFraction: one, weight: d == 0 ? 1 : 0)
        guard d > 0 else { return }
        let inverseN = inverse[d + 1]
        var i = d - 1
        while i >= 0 {
            let w = path[i].weight * inverseN
            path[i + 1].weight += one * w * Double(i + 1)
            path[i].weight = zero * w * Double(d - i)
            i -= 1
        }
    }

    @inline(__always)
    private func unwind(_ path: UnsafeMutablePointer<Element>, depth d: Int, index: Int) {
        let one = path[index].oneFraction, zero = path[index].zeroFraction
        let n = Double(d + 1)
        var i = d - 1
        if one != 0 {
            let nOverOne = n / one
            let zeroOverN = zero * inverse[d + 1]
            var next = path[d].weight
            while i >= 0 {
                let previous = path[i].weight
                let weight = next * nOverOne * inverse[i + 1]
                path[i].weight = weight
                next = previous - weight * zeroOverN * Double(d - i)
                i -= 1
            }
        } else {
            let nOverZero = n / zero
            while i >= 0 {
                path[i].weight = path[i].weight * nOverZero * inverse[d - i]
                i -= 1
            }
        }
        var j = index
        while j < d {
            path[j].feature = path[j + 1].feature
            path[j].zeroFraction = path[j + 1].zeroFraction
            path[j].oneFraction = path[j + 1].oneFraction
            j += 1
        }
    }

    @inline(__always)
    private func unwoundSum(_ path: UnsafeMutablePointer<Element>, depth d: Int, index: Int) -> Double {
        let one = path[index].oneFraction, zero = path[index].zeroFraction
        let n = Double(d + 1)
        var total = 0.0
        var i = d - 1
        if one != 0 {
            let nOverOne = n / one
            let zeroOverN = zero * inverse[d + 1]
            var next = path[d].weight
            while i >= 0 {
                let share = next * nOverOne * inverse[i + 1]
                total += share
                next = path[i].weight - share * zeroOverN * Double(d - i)
                i -= 1
            }
        } else if zero != 0 {
            let nOverZero = n / zero
            while i >= 0 {
                total += path[i].weight * nOverZero * inverse[d - i]
                i -= 1
            }
        }
        return total
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
