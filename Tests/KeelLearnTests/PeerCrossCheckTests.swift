import Foundation
import KeelData
import KeelLearn
import KeelTestSupport
import Testing

/// Keel against scikit-learn and LightGBM on the same data, in a virtual environment the tests install.
@Suite(.serialized) struct PeerCrossCheckTests {
    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func metricsEqualScikitLearn() throws {
        var g = SeededGenerator(seed: 21)
        let n = 500
        let binaryTruth = (0..<n).map { _ in Double(g.next(below: 2)) }
        let binaryScores = binaryTruth.map { y in min(max(0.3 * y + g.nextUnit() * 0.7, 0.001), 0.999) }
        let binaryProbabilities = binaryScores.flatMap { [1 - $0, $0] }
        let k = 4
        let multiTruth = (0..<n).map { i in Double(i % k) }
        var multiProbabilities: [Double] = []
        for y in multiTruth {
            var row = (0..<k).map { c in g.nextUnit() + (Double(c) == y ? 0.6 : 0) }
            let sum = row.reduce(0, +)
            row = row.map { $0 / sum }
            multiProbabilities += row
        }
        let regressionTruth = (0..<n).map { _ in g.nextUnit() * 10 }
        let regressionPredictions = regressionTruth.map { $0 + g.nextUnit() * 2 - 1 }
        let data: [String: [Double]] = ["bt": binaryTruth, "bp": binaryScores, "mt": multiTruth, "mp": multiProbabilities,
                                        "rt": regressionTruth, "rp": regressionPredictions]
        let path = try temporaryFolder().appendingPathComponent("metrics.json")
        try JSONEncoder().encode(data).write(to: path)
        let output = try PythonEnvironment.run("""
        import json, sys, numpy as np
        from sklearn import metrics as m
        d = {k: np.array(v) for k, v in json.load(open(sys.argv[1])).items()}
        bt, bp, mt, rt, rp = d["bt"], d["bp"], d["mt"], d["rt"], d["rp"]
        mp = d["mp"].reshape(-1, 4); bl = (bp > 0.5).astype(int); ml = mp.argmax(1)
        print(json.dumps({
          "binary_roc_auc": m.roc_auc_score(bt, bp), "binary_pr_auc": m.average_precision_score(bt, bp),
          "binary_log_loss": m.log_loss(bt, bp), "binary_accuracy": m.accuracy_score(bt, bl),
          "binary_balanced_accuracy": m.balanced_accuracy_score(bt, bl), "binary_f1_macro": m.f1_score(bt, bl, average="macro"),
          "binary_brier": m.brier_score_loss(bt, bp),
          "multi_roc_auc": m.roc_auc_score(mt, mp, multi_class="ovr", average="macro"), "multi_log_loss": m.log_loss(mt, mp),
          "multi_accuracy": m.accuracy_score(mt, ml), "multi_balanced_accuracy": m.balanced_accuracy_score(mt, ml),
          "multi_f1_macro": m.f1_score(mt, ml, average="macro"),
          "regression_rmse": m.root_mean_squared_error(rt, rp), "regression_mae": m.mean_absolute_error(rt, rp), "regression_r2": m.r2_score(rt, rp)}))
        """, arguments: [path.path])
        let reference = try JSONDecoder().decode([String: Double].self, from: Data(output.utf8))
        let cases: [(String, Metric, [Double], [Double], Int)] = [
            ("binary", .rocAUC, binaryTruth, binaryProbabilities, 2), ("binary", .prAUC, binaryTruth, binaryProbabilities, 2),
            ("binary", .logLoss, binaryTruth, binaryProbabilities, 2), ("binary", .accuracy, binaryTruth, binaryProbabilities, 2),
            ("binary", .balancedAccuracy, binaryTruth, binaryProbabilities, 2), ("binary", .f1Macro, binaryTruth, binaryProbabilities, 2),
            ("binary", .brier, binaryTruth, binaryProbabilities, 2),
            ("multi", .rocAUC, multiTruth, multiProbabilities, k), ("multi", .logLoss, multiTruth, multiProbabilities, k),
            ("multi", .accuracy, multiTruth, multiProbabilities, k), ("multi", .balancedAccuracy, multiTruth, multiProbabilities, k),
            ("multi", .f1Macro, multiTruth, multiProbabilities, k),
            ("regression", .rmse, regressionTruth, regressionPredictions, 0), ("regression", .mae, regressionTruth, regressionPredictions, 0),
            ("regression", .r2, regressionTruth, regressionPredictions, 0),
        ]
        for (prefix, metric, truth, predictions, classes) in cases {
            let ours = try metric.evaluate(truth: truth, predictions: predictions, classCount: classes)
            let theirs = try #require(reference["\(prefix)_\(metric.rawValue)"])
            #expect(abs(ours - theirs) <= 1e-9, "\(prefix) \(metric.rawValue): keel \(ours), scikit-learn \(theirs)")
        }
    }

    /// Splits a shared dataset as the benchmark protocol says, trains LightGBM on it, writes both parts.
    private func lightGBM(_ dataset: String, task: TaskKind, folder: URL) throws -> Double {
        let entry = try #require(Datasets.named(dataset))
        let output = try PythonEnvironment.run("""
        import sys, json, pandas as pd, lightgbm as lgb, numpy as np
        from sklearn.model_selection import train_test_split
        from sklearn import metrics
        path, target, task, folder = sys.argv[1:5]
        df = pd.read_csv(path)
        strat = df[target] if task != "regression" else None
        tr, te = train_test_split(df, test_size=0.25, random_state=42, stratify=strat)
        tr.to_csv(folder + "/train.csv", index=False); te.to_csv(folder + "/test.csv", index=False)
        y, yt = tr.pop(target), te.pop(target)
        for c in tr.columns:
            if not pd.api.types.is_numeric_dtype(tr[c]):
                cats = sorted(tr[c].dropna().unique())
                tr[c] = pd.Categorical(tr[c], categories=cats); te[c] = pd.Categorical(te[c], categories=cats)
        params = dict(n_estimators=100, num_leaves=31, learning_rate=0.1, min_child_samples=20, max_bin=255, verbose=-1, n_jobs=2)
        if task == "regression":
            m = lgb.LGBMRegressor(**params).fit(tr, y); score = metrics.root_mean_squared_error(yt, m.predict(te))
        elif task == "binary":
            classes = sorted(y.unique()); pos = classes[-1] if set(map(str, classes)) != {">50K", "<=50K"} else ">50K"
            m = lgb.LGBMClassifier(**params).fit(tr, (y == pos).astype(int)); score = metrics.roc_auc_score((yt == pos).astype(int), m.predict_proba(te)[:, 1])
        else:
            m = lgb.LGBMClassifier(**params).fit(tr, y); score = metrics.log_loss(yt, m.predict_proba(te), labels=m.classes_)
        print(json.dumps({"score": score}))
        """, arguments: [entry.path, entry.target, task.rawValue, folder.path])
        return try #require(try JSONDecoder().decode([String: Double].self, from: Data(output.utf8))["score"])
    }

    private func keel(_ dataset: String, folder: URL) throws -> Double {
        var parameters = GradientBoostingParameters()
        parameters.rounds = 100
        return try PeerSplit.boostedScore(target: try #require(Datasets.named(dataset)).target, folder: folder, parameters: parameters)
    }

    @Test func gradientBoostingMatchesLightGBMOnAdultIncome() throws {
        let folder = try temporaryFolder()
        let theirs = try lightGBM("adult_income", task: .binary, folder: folder)
        let ours = try keel("adult_income", folder: folder)
        print("adult_income ROC AUC: keel \(ours), LightGBM \(theirs)")
        #expect(ours >= theirs - 0.005, "ROC AUC: keel \(ours), LightGBM \(theirs)")
    }

    @Test func gradientBoostingMatchesLightGBMOnDiamonds() throws {
        let folder = try temporaryFolder()
        let theirs = try lightGBM("diamonds", task: .regression, folder: folder)
        let ours = try keel("diamonds", folder: folder)
        print("diamonds RMSE: keel \(ours), LightGBM \(theirs)")
        #expect(ours <= theirs * 1.005, "RMSE: keel \(ours), LightGBM \(theirs)")
    }

    /// Soybean's columns are small whole-number codes, which schema inference reads as categories. Through the
    /// pipeline with their values, as `keel train` fits it when its value screen keeps them, the trees can cut
    /// between codes as LightGBM does with the numbers (as categories alone: test log loss 0.2770 against
    /// LightGBM's 0.1876).
    @Test func boostingThroughThePipelineMatchesLightGBMOnSoybean() throws {
        let folder = try temporaryFolder()
        let theirs = try lightGBM("soybean", task: .multiclass, folder: folder)
        let target = try #require(Datasets.named("soybean")).target
        let train = try CSVReader.read(path: folder.appendingPathComponent("train.csv").path)
        let schema = try SchemaInference.infer(train, target: target).schema
        let task = try #require(schema.task)
        #expect(schema.columns.filter { $0.role == .feature && $0.kind == .categorical }.count >= 10)
        let test = try CSVReader.read(path: folder.appendingPathComponent("test.csv").path).conforming(to: schema)
        let y = try TargetEncoding(column: train[target]!.converted(to: .categorical), task: task)
        let yt = try TargetEncoding(column: test[target]!.converted(to: .categorical), task: task)
        var options = PipelineOptions()
        options.levelValues = true
        let (pipeline, x) = try Pipeline.fit(train, schema: schema, target: y, options: options)
        var parameters = GradientBoostingParameters()
        parameters.rounds = 100
        let model = try GradientBoosting(parameters: parameters).fit(x, target: y)
        let ours = try Metric.logLoss.evaluate(truth: yt.values, predictions: model.predict(pipeline.transform(test)), classCount: y.classCount)
        let (categoriesOnly, xc) = try Pipeline.fit(train, schema: schema, target: y)
        let asCategories = try Metric.logLoss.evaluate(truth: yt.values, predictions: GradientBoosting(parameters: parameters).fit(xc, target: y)
            .predict(categoriesOnly.transform(test)), classCount: y.classCount)
        print("soybean log loss: keel \(ours) (as categories only \(asCategories)), LightGBM \(theirs)")
        // Measured: 0.2035 with the values, 0.3437 as categories only, 0.2054 with the codes as numbers only, LightGBM
        // 0.1876. The values close the representation's gap; what remains is the learners' own (many classes,
        // few rows each), as large with the codes as plain numbers.
        #expect(ours <= theirs * 1.1, "log loss: keel \(ours), LightGBM \(theirs)")
        #expect(ours < asCategories * 0.7, "with values \(ours), as categories only \(asCategories)")
    }

    /// Trees grown from another model's margins against LightGBM's `init_score` with the same margins: Keel's
    /// ridge on the same rows gives both sides their start, so only the boosting on top is compared.
    @Test func boostingOnALinearBaseMatchesLightGBMInitScoreOnDiamonds() throws {
        let folder = try temporaryFolder()
        _ = try lightGBM("diamonds", task: .regression, folder: folder)
        let train = try CSVReader.read(path: folder.appendingPathComponent("train.csv").path)
        let test = try CSVReader.read(path: folder.appendingPathComponent("test.csv").path)
        let task = LearningTask(kind: .regression)
        let encoder = try FeatureEncoder(frame: train, features: train.columnNames.filter { $0 != "price" })
        let y = try TargetEncoding(column: train["price"]!.converted(to: .numeric), task: task)
        let yt = try TargetEncoding(column: test["price"]!.converted(to: .numeric), task: task)
        let (x, xt) = (try encoder.encode(train), try encoder.encode(test))
        var linear = LinearParameters()
        linear.lambda = 1e-3
        let line = try LinearLearner(parameters: linear).fit(x, target: y)
        let (base, testBase) = (try line.rawScores(x), try line.rawScores(xt))
        try base.map { String($0) }.joined(separator: "\n").write(to: folder.appendingPathComponent("base.txt"), atomically: true, encoding: .utf8)
        try testBase.map { String($0) }.joined(separator: "\n").write(to: folder.appendingPathComponent("test_base.txt"), atomically: true, encoding: .utf8)
        var parameters = GradientBoostingParameters()
        parameters.rounds = 100
        parameters.linearBase = linear
        let model = try Learner.gradientBoosting(parameters).fit(x, target: y)
        let ours = try Metric.rmse.evaluate(truth: yt.values, predictions: model.predict(xt), classCount: 0)
        let output = try PythonEnvironment.run("""
        import sys, json, pandas as pd, lightgbm as lgb, numpy as np
        from sklearn import metrics
        folder = sys.argv[1]
        tr, te = pd.read_csv(folder + "/train.csv"), pd.read_csv(folder + "/test.csv")
        y, yt = tr.pop("price"), te.pop("price")
        for c in tr.columns:
            if not pd.api.types.is_numeric_dtype(tr[c]):
                cats = sorted(tr[c].dropna().unique())
                tr[c] = pd.Categorical(tr[c], categories=cats); te[c] = pd.Categorical(te[c], categories=cats)
        base, test_base = np.loadtxt(folder + "/base.txt"), np.loadtxt(folder + "/test_base.txt")
        params = dict(n_estimators=100, num_leaves=31, learning_rate=0.1, min_child_samples=20, max_bin=255, verbose=-1, n_jobs=2)
        plain = lgb.LGBMRegressor(**params).fit(tr, y)
        m = lgb.LGBMRegressor(**params).fit(tr, y, init_score=base)
        print(json.dumps({"score": metrics.root_mean_squared_error(yt, test_base + m.predict(te)),
                          "plain": metrics.root_mean_squared_error(yt, plain.predict(te))}))
        """, arguments: [folder.path])
        let peer = try JSONDecoder().decode([String: Double].self, from: Data(output.utf8))
        let theirs = try #require(peer["score"])
        print("diamonds RMSE on a ridge base: keel \(ours), LightGBM init_score \(theirs) (LightGBM without the base \(peer["plain"] ?? .nan))")
        #expect(ours <= theirs * 1.005, "RMSE: keel \(ours), LightGBM \(theirs)")
    }

    @Test func gradientBoostingMatchesLightGBMOnLetters() throws {
        let folder = try temporaryFolder()
        let theirs = try lightGBM("letter_recognition", task: .multiclass, folder: folder)
        let ours = try keel("letter_recognition", folder: folder)
        print("letter_recognition log loss: keel \(ours), LightGBM \(theirs)")
        #expect(ours <= theirs * 1.05, "log loss: keel \(ours), LightGBM \(theirs)")
    }
}
