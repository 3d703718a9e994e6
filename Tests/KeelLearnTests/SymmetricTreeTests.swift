import Foundation
import KeelData
@testable import KeelLearn
import KeelTestSupport
import Testing

/// Symmetric (oblivious) trees: the shape, and the quality against CatBoost, whose trees they are.
@Suite(.serialized) struct SymmetricTreeTests {
    private func symmetric(depth: Int, rounds: Int) -> GradientBoostingParameters {
        var p = GradientBoostingParameters()
        p.symmetricDepth = depth
        p.rounds = rounds
        p.learningRate = 0.05
        p.lambdaL2 = 3
        p.minChildSamples = 1
        return p
    }

    @Test func everyLevelSplitsOnOneCondition() throws {
        let table = SyntheticTable(rows: 2000, seed: 4)
        let model = try GradientBoosting(parameters: symmetric(depth: 4, rounds: 20)).fit(table.features, target: table.regressionTarget(seed: 5))
        var categoricalLevels = 0
        for tree in model.trees {
            var level: [Int32] = [0]
            var depth = 0
            while tree.feature[Int(level[0])] >= 0 {
                let conditions = Set(level.map { "\(tree.feature[Int($0)]) \(tree.threshold[Int($0)]) \(tree.defaultLeft[Int($0)]) \(tree.categorySet[Int($0)] >= 0 ? tree.categorySets[Int(tree.categorySet[Int($0)])] : [])" })
                #expect(conditions.count == 1, "level \(depth): \(conditions)")
                #expect(level.allSatisfy { tree.feature[Int($0)] >= 0 }, "a level splits every node or none")
                if tree.categorySet[Int(level[0])] >= 0 { categoricalLevels += 1 }
                level = level.flatMap { [tree.left[Int($0)], tree.right[Int($0)]] }
                depth += 1
            }
            #expect(depth <= 4 && tree.leafCount == 1 << depth)
        }
        #expect(categoricalLevels > 0, "the categorical feature (four of twelve levels raise the outcome) is used")
        // An ordinary tree in every other respect: the packed predictor and the tree walk agree.
        let predictions = try model.predict(table.features)
        let walked = (0..<table.features.rowCount).map { row in
            model.initialScores[0] + model.trees.reduce(0.0) { $0 + $1.value[$1.leaf { table.features.value(row: row, feature: $0) }] }
        }
        #expect(zip(predictions, walked).allSatisfy { abs($0 - $1) < 1e-9 })
        var constrained = symmetric(depth: 4, rounds: 5)
        constrained.monotoneConstraints = [1, 0, 0, 0]
        #expect(throws: LearnError.self) { try GradientBoosting(parameters: constrained).fit(table.features, target: table.regressionTarget(seed: 5)) }
    }

    /// Splits a shared dataset as the benchmark protocol says and fits CatBoost with Keel's settings (depth,
    /// learning rate, L2, rounds; plain boosting, no bagging or random strength, L2 split scores, one-hot
    /// categories), returning its test score.
    private func catBoost(_ dataset: String, task: TaskKind, rounds: Int, drop: [String], folder: URL) throws -> Double {
        let entry = try #require(Datasets.named(dataset))
        let output = try PythonEnvironment.run("""
        import sys, json, pandas as pd, numpy as np
        from catboost import CatBoostClassifier, CatBoostRegressor
        from sklearn.model_selection import train_test_split
        from sklearn import metrics
        path, target, task, folder, rounds, drop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:]
        df = pd.read_csv(path).drop(columns=drop)
        tr, te = train_test_split(df, test_size=0.25, random_state=42, stratify=df[target] if task != "regression" else None)
        tr.to_csv(folder + "/train.csv", index=False); te.to_csv(folder + "/test.csv", index=False)
        y, yt = tr.pop(target), te.pop(target)
        cats = [c for c in tr.columns if not pd.api.types.is_numeric_dtype(tr[c])]
        params = dict(depth=6, learning_rate=0.05, l2_leaf_reg=3, iterations=rounds, boosting_type="Plain", bootstrap_type="No",
                      random_strength=0, score_function="L2", one_hot_max_size=255, border_count=254, thread_count=2, verbose=0, random_seed=1,
                      allow_writing_files=False)
        if task == "regression":
            m = CatBoostRegressor(**params).fit(tr, y, cat_features=cats); score = metrics.root_mean_squared_error(yt, m.predict(te))
        else:
            pos = sorted(y.unique())[-1]
            m = CatBoostClassifier(**params).fit(tr, (y == pos).astype(int), cat_features=cats)
            score = metrics.roc_auc_score((yt == pos).astype(int), m.predict_proba(te)[:, 1])
        print(json.dumps({"score": score}))
        """, arguments: [entry.path, entry.target, task.rawValue, folder.path, String(rounds)] + drop)
        return try #require(try JSONDecoder().decode([String: Double].self, from: Data(output.utf8))["score"])
    }

    private func keel(_ dataset: String, rounds: Int, folder: URL) throws -> Double {
        try PeerSplit.boostedScore(target: try #require(Datasets.named(dataset)).target, folder: folder, parameters: symmetric(depth: 6, rounds: rounds))
    }

    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-catboost-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func symmetricTreesMatchCatBoostOnBankChurn() throws {
        let folder = try temporaryFolder()
        let theirs = try catBoost("bank_churn", task: .binary, rounds: 300, drop: ["RowNumber", "CustomerId", "Surname"], folder: folder)
        let ours = try keel("bank_churn", rounds: 300, folder: folder)
        print("bank_churn ROC AUC, symmetric depth 6: keel \(ours), CatBoost \(theirs)")
        #expect(ours >= theirs - 0.005, "ROC AUC: keel \(ours), CatBoost \(theirs)")
    }

    @Test func symmetricTreesMatchCatBoostOnDiamonds() throws {
        let folder = try temporaryFolder()
        let theirs = try catBoost("diamonds", task: .regression, rounds: 500, drop: [], folder: folder)
        let ours = try keel("diamonds", rounds: 500, folder: folder)
        print("diamonds RMSE, symmetric depth 6: keel \(ours), CatBoost \(theirs)")
        #expect(ours <= theirs * 1.02, "RMSE: keel \(ours), CatBoost \(theirs)")
    }
}
