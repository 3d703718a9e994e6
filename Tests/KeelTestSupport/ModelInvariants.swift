import Foundation
import KeelArtifact
import KeelData
import KeelExplain
import KeelLearn
import KeelRegistry
import KeelSearch

/// Seeded tables that hold everything a model meets in production: missing values, categorical levels (a
/// few and many), a boolean, a date, free text, extreme values; and a second table to score with levels and
/// words training never saw, values far outside the training range, and missing values.
public struct InvariantData: Sendable {
    public let train: Frame
    public let score: Frame
    public let task: TaskKind

    static let plans = ["basic", "plus", "pro", "family", "student", "business"]

    public init(task: TaskKind, rows: Int = 400, seed: UInt64 = 19) throws {
        self.task = task
        train = try CSVFixtures.read(Self.csv(task: task, rows: rows, seed: seed, unseen: false))
        score = try CSVFixtures.read(Self.csv(task: task, rows: 60, seed: seed &+ 1, unseen: true))
    }

    static func csv(task: TaskKind, rows: Int, seed: UInt64, unseen: Bool) -> String {
        var g = SeededGenerator(seed: seed)
        let words = ["late", "payment", "upgrade", "refund", "happy", "slow", "support", "cancel", "discount", "outage", "thanks", "billing"]
        var lines = ["amount,rate,plan,city,autopay,signup,note,outcome"]
        for i in 0..<rows {
            var amount = g.nextUnit() < 0.1 ? Double.nan : (g.nextUnit() * 900 + 100).rounded()
            // Extreme values: a few in training, far beyond them when scoring.
            if i % 97 == 13 { amount = unseen ? 1e12 : 250_000 }
            if i % 89 == 7 { amount = unseen ? -1e12 : -5_000 }
            let rate = (g.nextUnit() * 10).rounded() / 10 + (unseen && i % 11 == 0 ? 1e6 : 0)
            let plan = unseen && i % 5 == 0 ? "platinum-\(i)" : plans[g.next(below: plans.count)]
            let city = unseen && i % 4 == 0 ? "Atlantis \(i)" : "City \(g.next(below: 60))"
            let autopay = g.nextUnit() < 0.5 ? "yes" : "no"
            let day = 1 + g.next(below: 28), month = 1 + g.next(below: 12)
            let signup = String(format: "20%02d-%02d-%02d", 18 + g.next(below: 6) + (unseen && i % 7 == 0 ? 30 : 0), month, day)
            var note = (0..<(3 + g.next(below: 5))).map { _ in words[g.next(below: words.count)] }.joined(separator: " ")
            if unseen && i % 3 == 0 { note += " zebra quantum never-seen" }
            note += " ticket \(i) for account \(g.next(below: 100_000))"
            let a = amount.isNaN ? 0.3 : min(max((amount - 550) / 300, -3), 3)
            let margin = 1.2 * a + (rate - 5) / 3 + (["pro", "business"].contains(plan) ? 1 : -0.4) + (autopay == "yes" ? 0.5 : 0)
                + (note.contains("refund") ? -0.8 : 0.2)
            let outcome: String = switch task {
            case .binary: g.nextUnit() < 1 / (1 + exp(-margin)) ? "yes" : "no"
            case .multiclass: margin + (g.nextUnit() - 0.5) < -0.5 ? "low" : (margin + (g.nextUnit() - 0.5) < 1 ? "mid" : "high")
            case .regression: String(format: "%.3f", 10 * margin + 3 * (g.nextUnit() - 0.5))
            }
            lines.append([amount.isNaN ? "" : String(format: "%.0f", amount), String(rate), plan, city, autopay, signup, "\"\(note)\"", outcome]
                .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The schema the search would use (inferred), the fitted pipeline, the training matrix and target.
    public func prepare() throws -> (schema: Schema, pipeline: Pipeline, x: FeatureMatrix, y: TargetEncoding) {
        let schema = try SchemaInference.infer(train, target: "outcome").schema
        let task = try require_(schema.task, "the table has a task")
        let storage: ColumnKind = task.kind == .regression ? .numeric : .categorical
        let y = try TargetEncoding(column: train["outcome"]!.converted(to: storage), task: task)
        let (pipeline, x) = try Pipeline.fit(train, schema: schema, target: y)
        return (schema, pipeline, x, y)
    }
}

private func require_<T>(_ value: T?, _ what: String) throws -> T {
    guard let value else { throw LearnError.invalidData("invariant data: \(what)") }
    return value
}

/// The invariants every model the search can ship must hold; each check returns what it found wrong, so a
/// suite reports every violation of every configuration at once.
public enum ModelInvariants {
    /// A learner made affordable for the suite: fewer rounds, trees and bags. The invariants hold tree by
    /// tree and term by term, so they do not depend on how many there are.
    public static func affordable(_ learner: Learner) -> Learner {
        switch learner {
        case .gradientBoosting(var p):
            p.rounds = min(p.rounds, 25)
            if var base = p.linearBase { base.tolerance = max(base.tolerance, 1e-4); p.linearBase = base }
            return .gradientBoosting(p)
        case .randomForest(var p):
            p.trees = min(p.trees, 8)
            return .randomForest(p)
        case .explainableBoosting(var p):
            p.maxRounds = min(p.maxRounds, 60)
            p.outerBags = min(p.outerBags, 2)
            p.interactions = min(p.interactions, 3)
            return .explainableBoosting(p)
        case .linear, .external:
            return learner
        }
    }

    /// A trained model as the search would ship it (pipeline, model and, for classifiers, a calibration).
    public static func trained(_ model: FittedModel, prepared: (schema: Schema, pipeline: Pipeline, x: FeatureMatrix, y: TargetEncoding),
                               calibration: Calibration? = nil) -> TrainedModel {
        let metric: Metric = switch prepared.y.task.kind {
        case .binary: .rocAUC
        case .multiclass: .logLoss
        case .regression: .rmse
        }
        return TrainedModel(predictor: Predictor(schema: prepared.schema, pipeline: prepared.pipeline, model: model, calibration: calibration),
                     provenance: ModelProvenance(createdAt: "2026-01-01T00:00:00Z", metric: metric, validation: "invariant suite",
                                                 crossValidatedScore: 0, holdoutScore: 0, dataFingerprint: "invariant", seed: 1, trialSchedule: []))
    }

    /// Every invariant on `model` scoring `frame`: finite predictions (probabilities that sum to one), finite
    /// attributions that add up to the margin for every output, an explanation whose JSON holds only finite
    /// numbers and whose probability is the predicted one, and a model file that predicts identically.
    public static func violations(_ model: TrainedModel, scoring frame: Frame, label: String) -> [String] {
        var problems: [String] = []
        func fail(_ text: String) { problems.append("\(label): \(text)") }
        do {
            let task = model.schema.task?.kind ?? .regression
            let outputs = try model.predictor.outputs(frame)
            if let bad = outputs.firstIndex(where: { !$0.isFinite }) { fail("prediction \(bad) is \(outputs[bad])") }
            if task != .regression {
                let k = model.schema.task?.classes?.count ?? 1
                for row in 0..<frame.rowCount {
                    let p = outputs[(row * k)..<((row + 1) * k)]
                    if abs(p.reduce(0, +) - 1) > 1e-9 || p.contains(where: { $0 < 0 || $0 > 1 }) { fail("row \(row)'s probabilities \(Array(p))"); break }
                }
            }

            let attributions = try Explainer.attributions(model, frame: frame)
            if let bad = attributions.values.firstIndex(where: { !$0.isFinite }) { fail("attribution \(bad) is \(attributions.values[bad])") }
            if let bad = attributions.base.firstIndex(where: { !$0.isFinite }) { fail("base \(bad) is \(attributions.base[bad])") }
            let margins = try model.predictor.model.rawScores(model.predictor.features(frame), task: task)
            var worst = 0.0
            for row in 0..<attributions.rowCount {
                for k in 0..<attributions.outputCount {
                    let margin = margins[row * attributions.outputCount + k]
                    worst = max(worst, abs(attributions.margin(row: row, output: k) - margin) / max(1, abs(margin)))
                }
            }
            if !(worst <= 1e-6) { fail("attributions miss the margin by \(worst)") }
            // A row explains identically alone and in a batch (the server's few rows, the CLI's sample).
            let few = try Explainer.attributions(model, frame: frame.selecting(rows: [0, 1, 2]))
            let width = attributions.outputCount * attributions.names.count
            if Array(few.values) != Array(attributions.values[0..<(3 * width)]) { fail("rows explained alone differ from the same rows in a batch") }

            let rows = Array(0..<min(frame.rowCount, 20))
            let explanation = try Explainer.explain(model, frame: frame, modelName: label, dataName: "invariants", request: ExplanationRequest(rows: rows)).explanation
            let document = try JSONSerialization.jsonObject(with: try explanation.json())
            if let place = nonFinite(document, path: "") { fail("the explanation's JSON holds \(place)") }
            let predictions = try model.predictor.predict(frame.selecting(rows: rows))
            for (reason, prediction) in zip(explanation.rows, predictions) {
                guard let p = reason.probability, let c = reason.explainedClass, let index = model.schema.task?.classes?.firstIndex(of: c) else { continue }
                if abs(p - prediction.probabilities[index]) > 1e-9 { fail("row \(reason.row) explains p = \(p), predicts \(prediction.probabilities[index])"); break }
            }

            let path = NSTemporaryDirectory() + "keel-invariant-\(UUID().uuidString).keel"
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try Artifact.write(model, to: path)
            let reread = try Artifact.read(from: path).model
            if try reread.predictor.outputs(frame) != outputs { fail("the model file predicts differently after a round trip") }
        } catch {
            fail("threw \(error)")
        }
        return problems
    }

    /// TreeSHAP against Shapley values by definition, tree by tree, for the first trees of a model that use
    /// few enough features to enumerate.
    public static func treeViolations(_ model: FittedModel, matrix: FeatureMatrix, label: String, rows: Int = 4, trees: Int = 2) -> [String] {
        var problems: [String] = []
        var checked = 0
        for tree in treesOf(model) where checked < trees && Set(tree.feature.filter { $0 >= 0 }).count <= 10 {
            checked += 1
            let single = GradientBoostedModel(objective: .l2, outputCount: 1, initialScores: [0], trees: [tree], featureKinds: matrix.kinds,
                                              rounds: 1, stopReason: .completed)
            let sample = matrix.selecting(rows: Array(0..<min(rows, matrix.rowCount)))
            guard let ours = try? ModelExplainer.explain(.gradientBoosting(single), task: .regression, matrix: sample,
                                                         names: (0..<matrix.featureCount).map { "f\($0)" }) else {
                problems.append("\(label): TreeSHAP threw")
                continue
            }
            for row in 0..<sample.rowCount {
                let expected = ShapleyReference.values(tree, matrix: sample, row: row)
                for f in 0..<matrix.featureCount where !(abs(ours.value(row: row, output: 0, feature: f) - expected[f]) < 1e-9) {
                    problems.append("\(label): tree \(checked), row \(row), feature \(f): TreeSHAP \(ours.value(row: row, output: 0, feature: f)), by definition \(expected[f])")
                    break
                }
            }
        }
        return problems
    }

    /// The trees of every tree model inside `model` (ensemble members included).
    public static func treesOf(_ model: FittedModel) -> [Tree] {
        switch model {
        case .gradientBoosting(let m): m.trees
        case .forest(let m): m.trees
        case .ensemble(let e): e.members.flatMap(treesOf)
        case .linear, .explainableBoosting, .external: []
        }
    }

    /// `nonFinite` for the suite's own tests.
    public static func nonFiniteForTests(_ value: Any) -> String? { nonFinite(value, path: "") }

    /// The first null, NaN or infinite number in a parsed JSON document, by path.
    static func nonFinite(_ value: Any, path: String) -> String? {
        switch value {
        case is NSNull: return "null at \(path)"
        case let number as NSNumber:
            return number.doubleValue.isFinite ? nil : "\(number) at \(path)"
        case let string as String where ["nan", "-nan", "inf", "-inf", "infinity", "-infinity"].contains(string.lowercased()):
            return "\"\(string)\" at \(path)"
        case let array as [Any]:
            for (i, item) in array.enumerated() { if let found = nonFinite(item, path: "\(path)[\(i)]") { return found } }
            return nil
        case let object as [String: Any]:
            for (key, item) in object.sorted(by: { $0.key < $1.key }) { if let found = nonFinite(item, path: "\(path).\(key)") { return found } }
            return nil
        default:
            return nil
        }
    }
}
