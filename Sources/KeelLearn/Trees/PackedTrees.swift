/// The trees of an ensemble packed for prediction: one contiguous array of 24-byte nodes in depth-first
/// order (a left child follows its parent), leaves holding their value in place of a threshold.
///
/// Prediction is a chain of dependent loads, so its speed is set by memory: eleven separate arrays per
/// tree put each step of a walk on several cache lines, one packed node puts it on one. Built once when a
/// model is made or loaded; results are identical to walking `Tree`.
final class PackedTrees: Sendable {
    struct Node {
        /// Split threshold, or the leaf's value.
        var threshold: Double
        /// Split feature, or -1 for a leaf.
        var feature: Int32
        var right: Int32
        /// Index into `categoryOffsets` for categorical splits, -1 otherwise.
        var categorySet: Int32
        var defaultLeft: Bool
    }

    let nodes: [Node]
    let roots: [Int32]
    /// Category bitsets, concatenated; set `s` is `categoryWords[categoryOffsets[s] ..< categoryOffsets[s + 1]]`.
    let categoryWords: [UInt64]
    let categoryOffsets: [Int32]

    init(_ trees: [Tree]) {
        var nodes: [Node] = []
        nodes.reserveCapacity(trees.reduce(0) { $0 + $1.nodeCount })
        var roots: [Int32] = []
        var words: [UInt64] = []
        var offsets: [Int32] = [0]
        for t in trees.indices {
            roots.append(Int32(nodes.count))
            var stack = [0]
            var patches: [(parent: Int, child: Int)] = []
            var placed = [Int](repeating: -1, count: trees[t].nodeCount)
            while let source = stack.popLast() {
                placed[source] = nodes.count
                let tree = trees[t]
                if tree.feature[source] < 0 {
                    nodes.append(Node(threshold: tree.value[source], feature: -1, right: -1, categorySet: -1, defaultLeft: false))
                    continue
                }
                var set: Int32 = -1
                if tree.categorySet[source] >= 0 {
                    set = Int32(offsets.count - 1)
                    words += tree.categorySets[Int(tree.categorySet[source])]
                    offsets.append(Int32(words.count))
                }
                nodes.append(Node(threshold: tree.threshold[source], feature: tree.feature[source], right: -1, categorySet: set,
                                  defaultLeft: tree.defaultLeft[source]))
                patches.append((nodes.count - 1, Int(tree.right[source])))
                // Right is pushed first so the left subtree is laid out right after its parent.
                stack.append(Int(tree.right[source]))
                stack.append(Int(tree.left[source]))
            }
            for (parent, child) in patches { nodes[parent].right = Int32(placed[child]) }
        }
        self.nodes = nodes
        self.roots = roots
        categoryWords = words
        categoryOffsets = offsets
    }

    /// Adds tree `t`'s output to `scores[offset + row * stride]` for trees `t` in `trees`, rows in `rows`.
    func addPredictions(_ matrix: FeatureMatrix, rows: Range<Int>, trees: Range<Int>, outputs: Int,
                        to scores: UnsafeMutablePointer<Double>, stride: Int) {
        let n = matrix.rowCount
        matrix.values.withUnsafeBufferPointer { values in
            nodes.withUnsafeBufferPointer { nodes in
                roots.withUnsafeBufferPointer { roots in
                    for t in trees {
                        let root = Int(roots[t])
                        let offset = t % outputs
                        for row in rows {
                            var index = root
                            while true {
                                let node = nodes[index]
                                if node.feature < 0 {
                                    scores[offset &+ row &* stride] += node.threshold
                                    break
                                }
                                let x = values[Int(node.feature) &* n &+ row]
                                let goLeft: Bool
                                if x.isNaN {
                                    goLeft = node.defaultLeft
                                } else if node.categorySet < 0 {
                                    goLeft = x <= node.threshold
                                } else {
                                    goLeft = contains(Int(node.categorySet), code: x)
                                }
                                index = goLeft ? index &+ 1 : Int(node.right)
                            }
                        }
                    }
                }
            }
        }
    }

    private func contains(_ set: Int, code: Double) -> Bool {
        guard code >= 0 else { return false }
        let c = Int(code)
        let start = Int(categoryOffsets[set]), end = Int(categoryOffsets[set + 1])
        let word = start + (c >> 6)
        return word < end && categoryWords[word] & (1 << UInt64(c & 63)) != 0
    }
}
