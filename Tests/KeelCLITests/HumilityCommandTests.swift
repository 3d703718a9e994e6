import Foundation
import KeelRegistry
import KeelTestSupport
import Testing

/// Humility rules and the review queue through the command line and the server, as a team would run them:
/// rules from keel.yaml fire on every prediction, overrides and refusals, rows queued for review, decisions
/// by a reviewer key that become labels remembering their source, and retraining that uses them only when asked.
@Suite(.serialized) struct HumilityCommandTests {
    static let rules = """
        models:
          churn:
            humility:
              - {name: unsure, trigger: uncertain, max_probability_below: 0.75, action: review}
              - {trigger: uncertain, max_probability_below: 0.6, action: override, value: "yes"}
              - {trigger: outlying, action: flag}

        """

    @Test func rulesFlagOverrideAndQueueAndReviewersDecideIntoLabelsThatRetrainingTellsApart() throws {
        let w = try RegistryCommandTests.workspace()
        #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", "m.keel"]).status == 0)
        #expect(try w.keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)
        try Self.rules.write(toFile: w.registry + "/keel.yaml", atomically: true, encoding: .utf8)
        let keysFile = w.folder.appendingPathComponent("keys.json").path
        func key(_ role: String) throws -> String {
            let made = try KeelProcess.run(["keys", "create", "--role", role, "--name", "\(role)-tester", "--keys-file", keysFile], in: w.folder)
            #expect(made.status == 0, "\(made.stderr)")
            return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let (predictKey, reviewerKey) = (try key("predict"), try key("reviewer"))
        let server = try ServerProcess(["--registry", "--registry-path", w.registry, "--keys-file", keysFile], in: w.folder)
        defer { server.stop() }
        let asPredictor = ["Authorization": "Bearer \(predictKey)"], asReviewer = ["Authorization": "Bearer \(reviewerKey)"]

        var rows = try ServedModels.jsonRows(csv: w.data, model: w.folder.appendingPathComponent("m.keel").path)
        rows = Array(rows.prefix(60))
        rows[0] = rows[0].replacingOccurrences(of: #""monthly_fee":[0-9.eE+-]+"#, with: #""monthly_fee":1000000"#, options: .regularExpression)
        let response = try server.client.post("/v1/models/churn/predict", "{\"rows\":[\(rows.joined(separator: ","))]}", headers: asPredictor)
        #expect(response.status == 200, "\(response.body)")
        let predictions = try #require(response.json?["predictions"] as? [[String: Any]])
        var queued: [(id: Int, confidence: Double)] = []
        for (index, item) in predictions.enumerated() {
            let probabilities = try #require(item["probabilities"] as? [String: Double])
            let top = probabilities.values.max()!
            let flags = try #require(item["flags"] as? [[String: Any]], "every prediction carries flags")
            let fired = flags.compactMap { $0["rule"] as? String }
            #expect(fired.contains("unsure") == (top < 0.75), "row \(index): top \(top), flags \(fired)")
            #expect(fired.contains("uncertain#2") == (top < 0.6), "row \(index): top \(top), flags \(fired)")
            if top < 0.6 {
                #expect(item["prediction"] as? String == "yes" && item["model_prediction"] is String, "row \(index): the override answers")
            } else {
                #expect(item["model_prediction"] == nil)
            }
            if top < 0.75 {
                queued.append((try #require(item["review_id"] as? Int, "row \(index) was queued"), top))
            } else {
                #expect(item["review_id"] == nil)
            }
        }
        let first = try #require(predictions.first?["flags"] as? [[String: Any]])
        #expect(first.contains { $0["trigger"] as? String == "outlying" && ($0["reason"] as? String ?? "").contains("outside the training range of 'monthly_fee'") })
        #expect(!queued.isEmpty && queued.count < 60, "a threshold that queues some rows and not others (\(queued.count))")
        #expect(try server.client.get("/metrics").body.contains(#"keel_humility_flags_total{model="churn",rule="unsure",trigger="uncertain",action="review"} \#(queued.count)"#))

        // The queue: reviewer keys list it least confident first; a predict key may not; a reviewer may not predict.
        #expect(try server.client.get("/v1/review?model=churn", headers: asPredictor).status == 403)
        #expect(try server.client.post("/v1/models/churn/predict", rows[1], headers: asReviewer).status == 403)
        let list = try server.client.get("/v1/review?model=churn&limit=1000", headers: asReviewer)
        let items = try #require(list.json?["items"] as? [[String: Any]], "\(list.body)")
        #expect(items.compactMap { $0["id"] as? Int }.sorted() == queued.map(\.id).sorted())
        let confidences = items.compactMap { ($0["probabilities"] as? [String: Double])?.values.max() }
        #expect(confidences == confidences.sorted(), "least confident first")
        #expect((items.first?["reasons"] as? [String: Any])?["up"] != nil, "items carry reason codes")
        #expect((items.first?["row"] as? [String: Any])?["tenure_months"] != nil, "items carry the row")

        let (a, b) = (items[0]["id"] as! Int, items[1]["id"] as! Int)
        let bad = try server.client.post("/v1/review/\(a)", #"{"decision":"override","label":"maybe"}"#, headers: asReviewer)
        #expect(bad.status == 422 && bad.body.contains("invalid_label"), "\(bad.body)")
        let overridden = try server.client.post("/v1/review/\(a)", #"{"decision":"override","label":"no","comment":"called them"}"#, headers: asReviewer)
        #expect(overridden.status == 200 && overridden.json?["label"] as? String == "no", "\(overridden.body)")
        #expect(try server.client.post("/v1/review/\(a)", #"{"decision":"confirm"}"#, headers: asReviewer).status == 409)
        #expect(try server.client.post("/v1/review/999999", #"{"decision":"confirm"}"#, headers: asReviewer).status == 404)
        #expect(try server.client.post("/v1/review/\(b)", #"{"decision":"confirm"}"#, headers: asReviewer).status == 200)
        server.stop()

        // The terminal sees the same queue, decides too, and every decision is audited with who made it.
        let decided = try w.keel(["review", "list", "--status", "decided", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(decided.stdout.utf8)) as? [String: [Any]])?["items"]?.count == 2, "\(decided.stdout)")
        let c = try #require(items.dropFirst(2).first?["id"] as? Int)
        #expect(try w.keel(["review", "decide", String(c), "--decision", "override", "--label", "maybe", "--by", "ana"]).status != 0)
        #expect(try w.keel(["review", "decide", String(c), "--decision", "override", "--label", "yes", "--by", "ana"]).status == 0)
        let audit = try w.keel(["audit", "export"]).stdout
        #expect(audit.contains("review.decide") && audit.contains("api-key reviewer-tester") && audit.contains("\"ana\""), "\(audit.suffix(600))")
        #expect(try w.keel(["audit", "verify"]).status == 0)

        // The decisions are labels that remember their source.
        let store = try Registry(folder: w.registry, create: false)
        let logged = try store.predictionLog(model: "churn", since: 0)
        #expect(logged.labelCounts == [.reviewOverride: 2, .reviewConfirm: 1], "\(logged.labelCounts)")
        #expect(logged.labels(includingReview: false).allSatisfy { $0.label == nil })

        // Retraining uses observed labels only unless asked, and says which it used.
        let plain = try w.keel(["retrain", "churn", "--force", "--time", "5s"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("0 observed, 1 review-confirm, 2 review-override; review labels not used"), "\(plain.stdout)")
        let withReviews = try w.keel(["retrain", "churn", "--force", "--time", "5s", "--use-review-labels", "--review-weight", "0.5"])
        #expect(withReviews.stdout.contains("review labels used") && withReviews.stdout.contains("selective labels"), "\(withReviews.stdout)\(withReviews.stderr)")
        #expect(withReviews.stderr.contains("+ 3 labelled predictions"), "\(withReviews.stderr)")

        // Thresholds recommended from the holdout flag about the asked share of it.
        let recommended = try w.keel(["models", "humility", "churn@1", "--recommend", "--flag-rate", "0.1", "--json"])
        #expect(recommended.status == 0, "\(recommended.stderr)")
        let check = try #require((try JSONSerialization.jsonObject(with: Data(recommended.stdout.utf8)) as? [String: Any])?["check"] as? [String: Any])
        let suggested = try #require(check["recommended"] as? [[String: Any]])
        let rows_ = try #require(check["holdoutRows"] as? Int)
        let uncertain = try #require(suggested.first { ($0["rule"] as? [String: Any])?["trigger"] as? String == "uncertain" })
        #expect(abs((uncertain["share"] as? Double ?? 0) - 0.1) <= 2 / Double(rows_) + 0.02, "\(uncertain)")
        #expect((check["rules"] as? [Any])?.count == 3)
    }

    @Test func aServerFollowingTheRegistryPicksUpRuleChangesAndKeepsItsRulesWhenAChangeIsBad() throws {
        let w = try RegistryCommandTests.workspace()
        #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", "m.keel"]).status == 0)
        #expect(try w.keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)
        let yaml = w.registry + "/keel.yaml"
        try "models:\n  churn:\n    humility:\n      - {name: first, trigger: uncertain, max_probability_below: 0.99, action: flag}\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["--registry", "--registry-path", w.registry, "--poll", "100ms", "--keys-file", w.folder.appendingPathComponent("none.json").path],
                                       in: w.folder)
        defer { server.stop() }
        let rows = try ServedModels.jsonRows(csv: w.data, model: w.folder.appendingPathComponent("m.keel").path)
        let body = "{\"rows\":[\(rows.prefix(40).joined(separator: ","))]}"
        func rules() throws -> Set<String> {
            let response = try server.client.post("/v1/models/churn/predict", body)
            #expect(response.status == 200, "\(response.body)")
            return Set(try #require(response.json?["predictions"] as? [[String: Any]]).flatMap { item in
                (item["flags"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
            })
        }
        func settles(_ expected: Set<String>) throws -> Bool {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if try rules() == expected { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }
        #expect(try rules() == ["first"])
        // A change that does not parse: the rules in force stay, and the log says why.
        try "models:\n  churn:\n    humility:\n      - {name: second, trigger: unsure, action: flag}\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        Thread.sleep(forTimeInterval: 1)
        #expect(try rules() == ["first"])
        #expect(server.stderr.contains("humility rules not reloaded") && server.stderr.contains("unknown trigger 'unsure'"), "\(server.stderr.suffix(800))")
        // A good change is served within a poll or two, without a restart.
        try "models:\n  churn:\n    humility:\n      - {name: second, trigger: uncertain, max_probability_below: 0.99, action: flag}\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        #expect(try settles(["second"]), "the new rule is in force")
    }

    @Test func aServedFileRefusesRowsByRuleAndBatchScoringFlagsThemAndBadRulesStopTheServer() throws {
        let w = try RegistryCommandTests.workspace()
        let model = w.folder.appendingPathComponent("m.keel").path
        #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", model]).status == 0)
        let config = w.folder.appendingPathComponent("keel.yaml").path
        try "humility:\n  - {name: strange, trigger: outlying, action: error}\n  - {trigger: uncertain, max_probability_below: 0.7, action: flag}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let none = w.folder.appendingPathComponent("none.json").path
        let server = try ServerProcess([model, "--config", config, "--keys-file", none], in: w.folder)
        let rows = try ServedModels.jsonRows(csv: w.data, model: model)
        let odd = rows[0].replacingOccurrences(of: #""monthly_fee":[0-9.eE+-]+"#, with: #""monthly_fee":1000000"#, options: .regularExpression)
        let refused = try server.client.post("/v1/predict", odd)
        #expect(refused.status == 422 && refused.body.contains("humility_error") && refused.body.contains("humility rule 'strange' refuses the row"), "\(refused.body)")
        let fine = try server.client.post("/v1/predict", rows[1])
        #expect(fine.status == 200, "\(fine.body)")
        // A rule change that does not parse is refused on reload; the rules in force stay.
        try "humility:\n  - {trigger: unsure, action: flag}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let reload = try server.client.post("/v1/admin/reload", "")
        #expect(reload.status == 422 && reload.body.contains("unknown trigger 'unsure'"), "\(reload.body)")
        #expect(try server.client.post("/v1/predict", odd).status == 422, "the old rules still refuse")
        server.stop()

        // Bad rules stop a server at start, naming the key.
        try "humility:\n  - {trigger: uncertain, max_probability_below: 0.6, action: override, value: maybe}\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try ServerProcess([model, "--config", config, "--keys-file", none], in: w.folder) }
        let start = try KeelProcess.run(["serve", model, "--config", config, "--keys-file", none, "--port", "0"], in: w.folder)
        #expect(start.status != 0 && start.stderr.contains("humility[0].value: 'maybe' is not a class"), "\(start.stderr)")

        // keel predict: a flags column, refused rows without a prediction, counts on the terminal.
        try "humility:\n  - {name: strange, trigger: outlying, action: error}\n  - {trigger: uncertain, max_probability_below: 0.7, action: flag}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let data = try String(contentsOfFile: w.data, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = data[0].split(separator: ",").map(String.init)
        let fee = try #require(header.firstIndex(of: "monthly_fee"))
        var odd2 = data[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        odd2[fee] = "1000000"
        let scored = w.folder.appendingPathComponent("scored.csv").path
        try ([data[0], odd2.joined(separator: ",")] + data[2...40]).joined(separator: "\n").write(toFile: scored, atomically: true, encoding: .utf8)
        let out = w.folder.appendingPathComponent("out.csv").path
        let batch = try KeelProcess.run(["predict", model, scored, "--config", config, "--out", out], in: w.folder)
        #expect(batch.status == 0, "\(batch.stderr)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines[0].hasSuffix(",flags"))
        #expect(lines[1].contains("strange:error") && lines[1].split(separator: ",", omittingEmptySubsequences: false)[1].isEmpty, "\(lines[1])")
        #expect(batch.stderr.contains("humility: rule strange (outlying, error) fired on 1 of 40 rows") && batch.stderr.contains("1 row(s) refused"), "\(batch.stderr)")

        // One computation, two views: the server flags the same rows with the same rules as batch scoring.
        let plain = w.folder.appendingPathComponent("plain.csv").path
        try ([data[0]] + data[1...30]).joined(separator: "\n").write(toFile: plain, atomically: true, encoding: .utf8)
        let plainOut = w.folder.appendingPathComponent("plain-out.csv").path
        #expect(try KeelProcess.run(["predict", model, plain, "--config", config, "--out", plainOut], in: w.folder).status == 0)
        let batchFlags = try String(contentsOfFile: plainOut, encoding: .utf8).split(separator: "\n").dropFirst().map { line in
            String(line.split(separator: ",", omittingEmptySubsequences: false).last!)
        }
        let again = try ServerProcess([model, "--config", config, "--keys-file", none], in: w.folder)
        defer { again.stop() }
        let served = try again.client.post("/v1/predict", "{\"rows\":[\(rows[0..<30].joined(separator: ","))]}")
        #expect(served.status == 200, "\(served.body)")
        let servedFlags = try #require(served.json?["predictions"] as? [[String: Any]]).map { item in
            (item["flags"] as? [[String: Any]] ?? []).map { "\($0["rule"] as? String ?? ""):\($0["action"] as? String ?? "")" }.joined(separator: "; ")
        }
        #expect(servedFlags == batchFlags, "served \(servedFlags) vs batch \(batchFlags)")
        #expect(servedFlags.contains { !$0.isEmpty }, "some row is flagged")
    }
}
