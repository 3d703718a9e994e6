import KeelExplain
import KeelLearn
import KeelTestSupport
import PropertyBased
import Testing

/// TreeSHAP equals Shapley values computed by their definition (every subset of the features a tree uses,
/// with the path-dependent, cover-weighted value function) on random trees of every kind Keel grows:
/// leaf-wise and symmetric, numeric and categorical splits, missing values, a feature met again below
/// itself, and empty branches (zero cover), which made symmetric trees' attributions NaN.
@Suite struct TreeSHAPPropertyTests {
    static let data = RandomTrees(rows: 40, seed: 11)

    static func check(symmetric: Bool, depth: Int, seed: UInt64) throws {
        let tree = data.tree(symmetric: symmetric, depth: depth, seed: seed)
        let kinds = data.matrix.kinds
        let model = GradientBoostedModel(objective: .l2, outputCount: 1, initialScores: [0.25], trees: [tree], featureKinds: kinds,
                                         rounds: 1, stopReason: .completed)
        let names = (0..<kinds.count).map { "f\($0)" }
        let attributions = try ModelExplainer.explain(.gradientBoosting(model), task: .regression, matrix: data.matrix, names: names)
        let additivity = try ModelExplainer.additivityError(attributions, model: .gradientBoosting(model), task: .regression, matrix: data.matrix)
        #expect(additivity < 1e-9, "additive: \(additivity) (symmetric \(symmetric), depth \(depth), seed \(seed))")
        #expect(abs(attributions.base[0] - 0.25 - ShapleyReference.expected(tree, node: 0) { _ in nil }) < 1e-12)
        for row in 0..<data.matrix.rowCount {
            let expected = ShapleyReference.values(tree, matrix: data.matrix, row: row)
            for f in 0..<kinds.count {
                let ours = attributions.value(row: row, output: 0, feature: f)
                #expect(ours.isFinite && abs(ours - expected[f]) < 1e-9,
                        "row \(row) feature \(f): \(ours) vs \(expected[f]) (symmetric \(symmetric), depth \(depth), seed \(seed))")
            }
        }
    }

    @Test func equalsShapleyValuesOnRandomSymmetricTrees() async {
        await propertyCheck(count: 40, input: Gen.uint64(in: 0...UInt64.max), Gen.int(in: 1...6)) { seed, depth in
            try Self.check(symmetric: true, depth: depth, seed: seed)
        }
    }

    @Test func equalsShapleyValuesOnRandomLeafWiseTrees() async {
        await propertyCheck(count: 40, input: Gen.uint64(in: 0...UInt64.max), Gen.int(in: 1...7)) { seed, depth in
            try Self.check(symmetric: false, depth: depth, seed: seed)
        }
    }

    /// The symmetric tree that made `keel explain` print NaN: an empty branch on one level, and the same
    /// feature split again on the level below it. Fixed, so it fails on the old code whatever the seed.
    @Test func anEmptyBranchAboveARepeatedFeatureIsFinite() throws {
        var tree = Tree()
        // Level 0 and level 1 split feature 0; the root's left child holds no training rows.
        tree.feature = [0, 0, -1, -1, 0, -1, -1]
        tree.threshold = [0, -0.5, 0, 0, 0.5, 0, 0]
        tree.categorySet = Array(repeating: -1, count: 7)
        tree.defaultLeft = Array(repeating: true, count: 7)
        tree.left = [1, 2, -1, -1, 5, -1, -1]
        tree.right = [4, 3, -1, -1, 6, -1, -1]
        tree.value = [0.5, 0, 0, 0, 0.5, 1, 0]
        tree.cover = [10, 0, 0, 0, 10, 5, 5]
        tree.count = [10, 0, 0, 0, 10, 5, 5]
        tree.gain = Array(repeating: 0, count: 7)
        let matrix = FeatureMatrix(rowCount: 3, kinds: [.numeric], values: [0.2, -0.7, 0.9])
        let model = GradientBoostedModel(objective: .l2, outputCount: 1, initialScores: [0], trees: [tree], featureKinds: [.numeric],
                                         rounds: 1, stopReason: .completed)
        let attributions = try ModelExplainer.explain(.gradientBoosting(model), task: .regression, matrix: matrix, names: ["x"])
        for row in 0..<3 {
            let expected = ShapleyReference.values(tree, matrix: matrix, row: row)[0]
            #expect(abs(attributions.value(row: row, output: 0, feature: 0) - expected) < 1e-12, "row \(row)")
        }
    }
}
