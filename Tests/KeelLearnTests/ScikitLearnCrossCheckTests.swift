import Foundation
import KeelData
import KeelLearn
import KeelTestSupport
import Testing

/// Linear models and forests against scikit-learn on shared datasets, in the test-made virtual environment.
@Suite(.serialized) struct ScikitLearnCrossCheckTests {
    private struct Reference: Decodable {
        let coefficients: [[Double]]
        let intercepts: [Double]
    }

    /// Numeric columns of a dataset, with the target encoded as Keel infers it.
    private func numericFeatures(_ dataset: String, columns: [String]) throws -> (FeatureMatrix, TargetEncoding, Frame) {
        let entry = try #require(Datasets.named(dataset))
        let frame = try CSVReader.read(path: entry.path)
        let task = try #require(SchemaInference.infer(frame, target: entry.target).schema.task)
        let x = try FeatureEncoder(frame: frame, features: columns).encode(frame)
        let storage: ColumnKind = task.kind == .regression ? .numeric : .categorical
        return (x, try TargetEncoding(column: frame[entry.target]!.converted(to: storage), task: task), frame)
    }

    /// scikit-learn fitted on the same standardised columns (StandardScaler: population standard deviation).
    private func scikitLearn(_ dataset: String, columns: [String], model: String) throws -> Reference {
        let entry = try #require(Datasets.named(dataset))
        let output = try PythonEnvironment.run("""
        import sys, json, pandas as pd, numpy as np
        from sklearn.preprocessing import StandardScaler
        from sklearn.linear_model import Ridge, LogisticRegression
        path, target, columns, model = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
        df = pd.read_csv(path)
        x = StandardScaler().fit_transform(df[columns].to_numpy(dtype=float)); y = df[target]; n = len(df)
        if model == "ridge":
            m = Ridge(alpha=5.0, tol=1e-12).fit(x, y); coef, intercept = [m.coef_.tolist()], [float(m.intercept_)]
        else:
            m = LogisticRegression(C=0.5, tol=1e-12, max_iter=100000).fit(x, y)
            coef, intercept = m.coef_.tolist(), m.intercept_.tolist()
            if len(m.classes_) > 2:
                intercept = (m.intercept_ - m.intercept_.mean()).tolist()
        print(json.dumps({"coefficients": coef, "intercepts": intercept}))
        """, arguments: [entry.path, entry.target, columns.joined(separator: ","), model])
        return try JSONDecoder().decode(Reference.self, from: Data(output.utf8))
    }

    private func expectClose(_ ours: LinearModel, _ theirs: Reference, tolerance: Double = 1e-3) {
        #expect(ours.coefficients.count == theirs.coefficients.count)
        for (a, b) in zip(ours.coefficients, theirs.coefficients) {
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= tolerance, "coefficient keel \(x), scikit-learn \(y)") }
        }
        for (x, y) in zip(ours.intercepts, theirs.intercepts) { #expect(abs(x - y) <= tolerance, "intercept keel \(x), scikit-learn \(y)") }
    }

    @Test func ridgeMatchesScikitLearn() throws {
        let columns = ["carat", "depth", "table", "x", "y", "z"]
        let (x, y, frame) = try numericFeatures("diamonds", columns: columns)
        var p = LinearParameters()
        p.lambda = 5.0 / Double(frame.rowCount)
        p.tolerance = 1e-10
        p.maxIterations = 100_000
        let ours = try LinearLearner(parameters: p).fit(x, target: y)
        // Ridge on prices in dollars: compare relative to the coefficient scale.
        let theirs = try scikitLearn("diamonds", columns: columns, model: "ridge")
        for (a, b) in zip(ours.coefficients[0], theirs.coefficients[0]) { #expect(abs(a - b) <= 1e-3 * max(1, abs(b)), "keel \(a), scikit-learn \(b)") }
        #expect(abs(ours.intercepts[0] - theirs.intercepts[0]) <= 1e-3 * abs(theirs.intercepts[0]))
    }

    @Test func logisticMatchesScikitLearn() throws {
        let columns = ["CreditScore", "Age", "Tenure", "Balance", "NumOfProducts", "HasCrCard", "IsActiveMember", "EstimatedSalary"]
        let (x, y, frame) = try numericFeatures("bank_churn", columns: columns)
        var p = LinearParameters()
        p.lambda = 1 / (0.5 * Double(frame.rowCount))
        p.tolerance = 1e-12
        let ours = try LinearLearner(parameters: p).fit(x, target: y)
        expectClose(ours, try scikitLearn("bank_churn", columns: columns, model: "logistic"))
    }

    @Test func multinomialMatchesScikitLearn() throws {
        let columns = ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"]
        let (x, y, frame) = try numericFeatures("glass", columns: columns)
        var p = LinearParameters()
        p.lambda = 1 / (0.5 * Double(frame.rowCount))
        p.tolerance = 1e-12
        let ours = try LinearLearner(parameters: p).fit(x, target: y)
        expectClose(ours, try scikitLearn("glass", columns: columns, model: "logistic"))
    }

    /// scikit-learn's elastic net on the same standardised columns: `ElasticNet(alpha: λ, l1_ratio: ρ)` for
    /// regression (the same objective), `LogisticRegression(penalty: "elasticnet", solver: "saga", l1_ratio: ρ,
    /// C: 1 / (λ·n))` for classification (C·Σ loss + ρ‖β‖₁ + (1 − ρ)/2 ‖β‖², divided by C·n, is Keel's objective).
    private func scikitLearnElasticNet(_ dataset: String, columns: [String], lambda: Double, l1Ratio: Double) throws -> Reference {
        let entry = try #require(Datasets.named(dataset))
        let output = try PythonEnvironment.run("""
        import sys, json, warnings, pandas as pd, numpy as np
        from sklearn.preprocessing import StandardScaler
        from sklearn.linear_model import ElasticNet, LogisticRegression
        warnings.simplefilter("ignore", FutureWarning)
        path, target, columns, lam, rho = sys.argv[1], sys.argv[2], sys.argv[3].split(","), float(sys.argv[4]), float(sys.argv[5])
        df = pd.read_csv(path)
        x = StandardScaler().fit_transform(df[columns].to_numpy(dtype=float)); y = df[target]; n = len(df)
        if y.dtype.kind == "f" or y.nunique() > 20:
            m = ElasticNet(alpha=lam, l1_ratio=rho, tol=1e-12, max_iter=1000000).fit(x, y)
            coef, intercept = [m.coef_.tolist()], [float(m.intercept_)]
        else:
            m = LogisticRegression(penalty="elasticnet", solver="saga", l1_ratio=rho, C=1 / (lam * n), tol=1e-12, max_iter=1000000).fit(x, y)
            coef, intercept = m.coef_.tolist(), m.intercept_.tolist()
        print(json.dumps({"coefficients": coef, "intercepts": intercept}))
        """, arguments: [entry.path, entry.target, columns.joined(separator: ","), "\(lambda)", "\(l1Ratio)"])
        return try JSONDecoder().decode(Reference.self, from: Data(output.utf8))
    }

    /// Coefficients within `tolerance` (relative to max(1, |scikit-learn's|)), and exactly the same ones zero.
    private func expectSameElasticNet(_ ours: LinearModel, _ theirs: Reference, columns: [String], tolerance: Double) {
        #expect(ours.coefficients.count == theirs.coefficients.count)
        for (a, b) in zip(ours.coefficients, theirs.coefficients) {
            for (column, (x, y)) in zip(columns, zip(a, b)) {
                #expect(abs(x - y) <= tolerance * max(1, abs(y)), "\(column): keel \(x), scikit-learn \(y)")
                #expect((x == 0) == (y == 0), "\(column): the L1 penalty zeroes it in both or in neither (keel \(x), scikit-learn \(y))")
            }
        }
        for (x, y) in zip(ours.intercepts, theirs.intercepts) { #expect(abs(x - y) <= tolerance * max(1, abs(y)), "intercept keel \(x), scikit-learn \(y)") }
    }

    @Test func elasticNetRegressionMatchesScikitLearnIncludingItsZeros() throws {
        let columns = ["carat", "depth", "table", "x", "y", "z"]
        let (x, y, _) = try numericFeatures("diamonds", columns: columns)
        var p = LinearParameters()
        p.lambda = 100
        p.l1Ratio = 0.7
        p.tolerance = 1e-12
        p.maxIterations = 100_000
        let ours = try LinearLearner(parameters: p).fit(x, target: y)
        let theirs = try scikitLearnElasticNet("diamonds", columns: columns, lambda: p.lambda, l1Ratio: p.l1Ratio)
        #expect(theirs.coefficients[0].contains(0), "the penalty is strong enough to zero a coefficient: \(theirs.coefficients)")
        #expect(theirs.coefficients[0].contains { $0 != 0 }, "and weak enough to keep others: \(theirs.coefficients)")
        expectSameElasticNet(ours, theirs, columns: columns, tolerance: 1e-4)
    }

    @Test func elasticNetLogisticMatchesScikitLearnIncludingItsZeros() throws {
        let columns = ["CreditScore", "Age", "Tenure", "Balance", "NumOfProducts", "HasCrCard", "IsActiveMember", "EstimatedSalary"]
        let (x, y, _) = try numericFeatures("bank_churn", columns: columns)
        var p = LinearParameters()
        p.lambda = 0.01
        p.l1Ratio = 0.5
        p.tolerance = 1e-12
        p.maxIterations = 100_000
        let ours = try LinearLearner(parameters: p).fit(x, target: y)
        let theirs = try scikitLearnElasticNet("bank_churn", columns: columns, lambda: p.lambda, l1Ratio: p.l1Ratio)
        #expect(theirs.coefficients[0].contains(0), "the penalty is strong enough to zero a coefficient: \(theirs.coefficients)")
        #expect(theirs.coefficients[0].contains { $0 != 0 }, "and weak enough to keep others: \(theirs.coefficients)")
        expectSameElasticNet(ours, theirs, columns: columns, tolerance: 1e-3)
    }

    @Test func randomForestAccuracyIsWithinOnePointOfScikitLearn() throws {
        let entry = try #require(Datasets.named("letter_recognition"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-rf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let output = try PythonEnvironment.run("""
        import sys, json, pandas as pd
        from sklearn.model_selection import train_test_split
        from sklearn.ensemble import RandomForestClassifier
        path, target, folder = sys.argv[1:4]
        df = pd.read_csv(path)
        tr, te = train_test_split(df, test_size=0.25, random_state=42, stratify=df[target])
        tr.to_csv(folder + "/train.csv", index=False); te.to_csv(folder + "/test.csv", index=False)
        m = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=2).fit(tr.drop(columns=target), tr[target])
        print(json.dumps({"accuracy": float((m.predict(te.drop(columns=target)) == te[target]).mean())}))
        """, arguments: [entry.path, entry.target, folder.path])
        let theirs = try #require(try JSONDecoder().decode([String: Double].self, from: Data(output.utf8))["accuracy"])
        let train = try CSVReader.read(path: folder.appendingPathComponent("train.csv").path)
        let test = try CSVReader.read(path: folder.appendingPathComponent("test.csv").path)
        let task = try #require(SchemaInference.infer(train, target: entry.target).schema.task)
        let encoder = try FeatureEncoder(frame: train, features: train.columnNames.filter { $0 != entry.target })
        var p = ForestParameters()
        p.trees = 100
        let model = try RandomForest(parameters: p).fit(encoder.encode(train), target: TargetEncoding(column: train[entry.target]!, task: task))
        let ours = try Metric.accuracy.evaluate(truth: TargetEncoding(column: test[entry.target]!, task: task).values,
                                                predictions: model.predict(encoder.encode(test)), classCount: task.classes!.count)
        print("letter_recognition random forest accuracy: keel \(ours), scikit-learn \(theirs)")
        #expect(ours >= theirs - 0.01, "accuracy keel \(ours), scikit-learn \(theirs)")
    }
}
