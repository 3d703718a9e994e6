import Foundation
import KeelData
import KeelExplain
import KeelLearn
import KeelTestSupport
import Testing

/// Attributions add up to the margin for every model kind, equal brute-force Shapley values on small trees
/// (categorical splits and missing values included), and equal the shap library's on numeric trees.
@Suite struct TreeSHAPTests {
    static let table = SyntheticTable(rows: 600, seed: 5)
    static let names = ["a", "b", "c", "level"]

    static func boosted(_ target: TargetEncoding, rounds: Int = 40, leaves: Int = 15) throws -> FittedModel {
        var p = GradientBoostingParameters()
        p.rounds = rounds
        p.maxLeaves = leaves
        p.minChildSamples = 5
        p.minRowsPerCategoryGroup = 10
        p.categoricalL2 = 0
        p.categoricalSmoothing = 1
        return try Learner.gradientBoosting(p).fit(table.features, target: target)
    }

    static func forest(_ target: TargetEncoding) throws -> FittedModel {
        var p = ForestParameters()
        p.trees = 20
        p.minSamplesLeaf = 3
        return try Learner.randomForest(p).fit(table.features, target: target)
    }

    static func check(_ model: FittedModel, task: TaskKind, outputs: Int) throws {
        let attributions = try ModelExplainer.explain(model, task: task, matrix: table.features, names: names)
        #expect(attributions.outputCount == outputs)
        let error = try ModelExplainer.additivityError(attributions, model: model, task: task, matrix: table.features)
        #expect(error < 1e-6, "\(model.kindName) \(task): additivity error \(error)")
        // Something is attributed: the model is not explained by its base alone.
        #expect(attributions.values.contains { abs($0) > 1e-3 })
    }

    @Test func attributionsAddUpToTheMarginForEveryModelKind() throws {
        let binary = Self.table.binaryTarget(seed: 1)
        let regression = Self.table.regressionTarget(seed: 2)
        let multiclass = Self.table.multiclassTarget()
        try Self.check(Self.boosted(binary), task: .binary, outputs: 1)
        try Self.check(Self.boosted(regression), task: .regression, outputs: 1)
        try Self.check(Self.boosted(multiclass), task: .multiclass, outputs: 3)
        try Self.check(Self.forest(binary), task: .binary, outputs: 1)
        try Self.check(Self.forest(regression), task: .regression, outputs: 1)
        try Self.check(Self.forest(multiclass), task: .multiclass, outputs: 3)
        var linear = LinearParameters()
        linear.lambda = 1e-3
        try Self.check(Learner.linear(linear).fit(Self.table.features, target: binary), task: .binary, outputs: 1)
        try Self.check(Learner.linear(linear).fit(Self.table.features, target: multiclass), task: .multiclass, outputs: 3)
        var ebm = ExplainableBoostingParameters()
        ebm.maxRounds = 200
        ebm.outerBags = 2
        try Self.check(Learner.explainableBoosting(ebm).fit(Self.table.features, target: binary), task: .binary, outputs: 1)
        try Self.check(Learner.explainableBoosting(ebm).fit(Self.table.features, target: regression), task: .regression, outputs: 1)
        let members = [try Self.boosted(binary), try Self.forest(binary), try Learner.linear(linear).fit(Self.table.features, target: binary)]
        let ensemble = FittedModel.ensemble(try EnsembleModel(task: .binary, outputs: 1, members: members, weights: [0.5, 0.3, 0.2]))
        try Self.check(ensemble, task: .binary, outputs: 1)
        // A stacked second layer: free non-negative weights and an intercept, which belongs to the base.
        let stacked = FittedModel.ensemble(try EnsembleModel(task: .binary, outputs: 1, members: members, weights: [0.9, 0.4, 0.25], intercepts: [-0.7]))
        try Self.check(stacked, task: .binary, outputs: 1)
        #expect(throws: LearnError.self) { try EnsembleModel(task: .binary, outputs: 1, members: members, weights: [0.9, 0.4, 0.25]) }
        let multiMembers = [try Self.boosted(multiclass), try Self.forest(multiclass)]
        try Self.check(.ensemble(try EnsembleModel(task: .multiclass, outputs: 3, members: multiMembers, weights: [0.6, 0.4])), task: .multiclass, outputs: 3)
        // Trees on a linear base, alone and as a blend's member: linear attributions plus TreeSHAP.
        var residual = GradientBoostingParameters()
        residual.rounds = 30
        residual.linearBase = linear
        let onLine = try Learner.gradientBoosting(residual).fit(Self.table.features, target: binary)
        try Self.check(onLine, task: .binary, outputs: 1)
        try Self.check(Learner.gradientBoosting(residual).fit(Self.table.features, target: regression), task: .regression, outputs: 1)
        try Self.check(Learner.gradientBoosting(residual).fit(Self.table.features, target: multiclass), task: .multiclass, outputs: 3)
        try Self.check(.ensemble(try EnsembleModel(task: .binary, outputs: 1, members: [onLine, members[1]], weights: [0.7, 0.3])), task: .binary, outputs: 1)
    }

    /// Exact Shapley values by enumeration of all feature subsets, with the path-dependent value function:
    /// v(S) follows the row at splits on features in S and averages the children by cover elsewhere.
    static func bruteForce(_ trees: [Tree], row: Int, features: Int) -> [Double] {
        let x = table.features
        func expected(_ tree: Tree, _ node: Int, _ subset: Set<Int>) -> Double {
            let f = Int(tree.feature[node])
            guard f >= 0 else { return tree.value[node] }
            let l = Int(tree.left[node]), r = Int(tree.right[node])
            if subset.contains(f) {
                let value = x.value(row: row, feature: f)
                return expected(tree, goesLeft(tree, node, value) ? l : r, subset)
            }
            let total = tree.cover[l] + tree.cover[r]
            return (tree.cover[l] * expected(tree, l, subset) + tree.cover[r] * expected(tree, r, subset)) / total
        }
        func v(_ subset: Set<Int>) -> Double { trees.reduce(0) { $0 + expected($1, 0, subset) } }
        var phi = [Double](repeating: 0, count: features)
        func factorial(_ n: Int) -> Double { n <= 1 ? 1 : Double(n) * factorial(n - 1) }
        for i in 0..<features {
            let others = (0..<features).filter { $0 != i }
            for mask in 0..<(1 << others.count) {
                let subset = Set(others.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
                let weight = factorial(subset.count) * factorial(features - subset.count - 1) / factorial(features)
                phi[i] += weight * (v(subset.union([i])) - v(subset))
            }
        }
        return phi
    }

    static func goesLeft(_ tree: Tree, _ node: Int, _ value: Double) -> Bool {
        if value.isNaN { return tree.defaultLeft[node] }
        let set = Int(tree.categorySet[node])
        if set < 0 { return value <= tree.threshold[node] }
        let code = Int(value)
        let words = tree.categorySets[set]
        return code >= 0 && code >> 6 < words.count && words[code >> 6] & (1 << UInt64(code & 63)) != 0
    }

    @Test func equalsBruteForceShapleyValuesWithCategoricalSplitsAndMissingValues() throws {
        let model = try Self.boosted(Self.table.binaryTarget(seed: 1), rounds: 4, leaves: 12)
        guard case .gradientBoosting(let boosted) = model else { Issue.record("boosting expected"); return }
        #expect(boosted.trees.contains { $0.categorySets.count > 0 }, "the trees split on the categorical feature: \(boosted.trees.map { $0.feature.filter { $0 >= 0 } }) \(boosted.trees.map(\.categorySets.count))")
        let attributions = try ModelExplainer.explain(model, task: .binary, matrix: Self.table.features, names: Self.names)
        let missingRows = (0..<Self.table.features.rowCount).filter { Self.table.features.value(row: $0, feature: 2).isNaN }
        for row in Array(0..<25) + missingRows.prefix(10) {
            let expected = Self.bruteForce(boosted.trees, row: row, features: 4)
            for f in 0..<4 {
                #expect(abs(attributions.value(row: row, output: 0, feature: f) - expected[f]) < 1e-9, "row \(row) feature \(f)")
            }
        }
    }

    @Test func agreesWithTheShapLibraryOnNumericTrees() throws {
        let rows = 300
        let numeric = FeatureMatrix(rowCount: Self.table.features.rowCount, kinds: [.numeric, .numeric, .numeric],
                                    values: Array(Self.table.features.values[0..<(3 * Self.table.features.rowCount)]))
        var p = GradientBoostingParameters()
        p.rounds = 60
        p.maxLeaves = 15
        p.minChildSamples = 5
        let model = try Learner.gradientBoosting(p).fit(numeric, target: Self.table.binaryTarget(seed: 3))
        guard case .gradientBoosting(let boosted) = model else { Issue.record("boosting expected"); return }
        let sample = numeric.selecting(rows: Array(0..<rows))
        let ours = try ModelExplainer.explain(model, task: .binary, matrix: sample, names: ["a", "b", "c"])

        // shap's custom tree format: arrays of children, default children, features, thresholds, values, covers.
        let trees: [[String: Any]] = boosted.trees.map { tree in
            [
                "children_left": tree.left.map(Int.init), "children_right": tree.right.map(Int.init),
                "children_default": tree.feature.indices.map { tree.feature[$0] < 0 ? -1 : Int(tree.defaultLeft[$0] ? tree.left[$0] : tree.right[$0]) },
                "features": tree.feature.map { max(Int($0), -2) }, "thresholds": tree.threshold,
                "values": tree.value, "node_sample_weight": tree.cover,
            ]
        }
        var x: [[Double?]] = []
        for row in 0..<rows { x.append((0..<3).map { let v = sample.value(row: row, feature: $0); return v.isNaN ? nil : v }) }
        let document: [String: Any] = ["trees": trees, "base_offset": boosted.initialScores[0], "x": x]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-shap-\(UUID().uuidString).json").path
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: path))
        let output = try PythonEnvironment.run("""
        import json, sys
        import numpy as np, shap
        d = json.load(open(sys.argv[1]))
        trees = [{k: np.array(v, dtype=np.int32 if k in ("children_left", "children_right", "children_default", "features") else np.float64)
                  for k, v in t.items()} for t in d["trees"]]
        for t in trees: t["values"] = t["values"].reshape(-1, 1)
        model = {"trees": trees, "base_offset": d["base_offset"], "tree_output": "raw_value", "objective": "squared_error"}
        x = np.array([[np.nan if v is None else v for v in r] for r in d["x"]], dtype=np.float64)
        e = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        print(json.dumps({"base": float(np.ravel(e.expected_value)[0]), "values": np.asarray(e.shap_values(x)).tolist()}))
        """, arguments: [path])
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let base = try #require(theirs["base"] as? Double)
        let values = try #require(theirs["values"] as? [[Double]])
        #expect(abs(base - ours.base[0]) < 1e-5, "base \(base) vs \(ours.base[0])")
        var worst = 0.0
        for row in 0..<rows { for f in 0..<3 { worst = max(worst, abs(values[row][f] - ours.value(row: row, output: 0, feature: f))) } }
        #expect(worst < 1e-5, "largest difference from shap: \(worst)")
    }
}
