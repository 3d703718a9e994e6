import Foundation
import KeelArtifact
import KeelRegistry
import KeelTestSupport
import Synchronization
import Testing

/// The registry through the command line, as a team would use it: train registers, references work
/// wherever a model file does, gates block and --force is audited, tampering exits 3, runs reproduce, and a
/// server following the registry swaps models on promotion and rollback without a failed request.
@Suite(.serialized) struct RegistryCommandTests {
    struct Workspace {
        var folder: URL
        var data: String
        var registry: String

        func keel(_ arguments: [String], actor: String = "tester") throws -> KeelProcess.Result {
            try KeelProcess.run(arguments + ["--registry", registry], in: folder, environment: ["KEEL_ACTOR": actor])
        }
    }

    /// Feedback is accepted once the log writer (every 250 ms) has stored the predictions it refers to.
    static func sendFeedback(_ client: HTTPTestClient, _ items: [String]) throws -> Bool {
        for chunk in stride(from: 0, to: items.count, by: 200) {
            let body = "{\"feedback\":[\(items[chunk..<min(chunk + 200, items.count)].joined(separator: ","))]}"
            let deadline = Date().addingTimeInterval(10)
            var status = 0
            repeat {
                status = try client.post("/v1/feedback", body).status
                if status != 200 { Thread.sleep(forTimeInterval: 0.1) }
            } while status != 200 && Date() < deadline
            guard status == 200 else { return false }
        }
        return true
    }

    /// Waits until the server has written `count` log records (shadow answers are logged after the response).
    static func awaitLogged(_ client: HTTPTestClient, _ count: Int) throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try client.get("/metrics").body.contains("keel_prediction_log_written_total \(count)") { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    static func workspace() throws -> Workspace {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-registry-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = folder.appendingPathComponent("churn.csv").path
        try CustomerChurnFixture.csv.write(toFile: data, atomically: true, encoding: .utf8)
        return Workspace(folder: folder, data: data, registry: folder.appendingPathComponent("reg").path)
    }

    @Test func trainPromotePredictByReferenceRollbackAndAudit() throws {
        let w = try Self.workspace()
        for learner in ["gbdt", "linear"] {
            let train = try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", learner, "--quiet", "--out", "\(learner).keel"])
            #expect(train.status == 0, "\(train.stderr)")
            #expect(train.stdout.contains("registered as churn@"))
            // The artefact is encoded once: --out holds the very bytes the registry stored.
            let copy = try Data(contentsOf: w.folder.appendingPathComponent("\(learner).keel"))
            let stored = FileManager.default.enumerator(atPath: w.registry)?.compactMap { $0 as? String }
                .filter { $0.hasSuffix(".keel") }.map { try? Data(contentsOf: URL(fileURLWithPath: w.registry).appendingPathComponent($0)) } ?? []
            #expect(stored.contains(copy), "no artefact in the registry has the bytes of \(learner).keel")
        }
        let list = try w.keel(["models", "list", "--json"])
        let versions = try JSONDecoder().decode([ModelVersion].self, from: Data(list.stdout.utf8))
        #expect(versions.map(\.reference) == ["churn@2", "churn@1"] && versions.allSatisfy { $0.stage == .candidate && $0.createdBy == "tester" })

        #expect(try w.keel(["models", "promote", "churn", "1", "--to", "production", "--by", "ann"]).status == 0)
        // A reference predicts exactly what the file it names predicts.
        #expect(try w.keel(["predict", "churn@production", w.data, "--out", "by-reference.csv"]).status == 0)
        #expect(try w.keel(["predict", "gbdt.keel", w.data, "--out", "by-file.csv"]).status == 0)
        let byReference = try String(contentsOf: w.folder.appendingPathComponent("by-reference.csv"), encoding: .utf8)
        let byFile = try String(contentsOf: w.folder.appendingPathComponent("by-file.csv"), encoding: .utf8)
        #expect(byReference == byFile && byReference.count > 100)
        #expect(try w.keel(["model", "info", "churn@1"]).stdout.contains("name            churn"))

        // Gates from the registry's keel.yaml: one approval needed.
        try "models:\n  churn:\n    gates:\n      max_metric_drop: 0.5\n      required_approvals: 1\n"
            .write(toFile: w.registry + "/keel.yaml", atomically: true, encoding: .utf8)
        let blocked = try w.keel(["models", "promote", "churn", "2", "--to", "production"])
        #expect(blocked.status == 3 && blocked.stderr.contains("approval: 0 of 1 required approvals"), "\(blocked.stderr)")
        #expect(try w.keel(["models", "approve", "churn", "2", "--by", "bob", "--comment", "reviewed"]).status == 0)
        let promoted = try w.keel(["models", "promote", "churn", "2", "--to", "production", "--by", "ann"])
        #expect(promoted.status == 0 && promoted.stdout.contains("gate metric: passed") && promoted.stdout.contains("churn@1 archived"), "\(promoted.stdout)\(promoted.stderr)")

        let rollback = try w.keel(["models", "rollback", "churn", "--by", "cat"])
        #expect(rollback.status == 0 && rollback.stdout.contains("churn@1 is in production again"))
        let again = try w.keel(["models", "rollback", "churn"])
        #expect(again.status == 1 && again.stderr.contains("no earlier one"))
        let history = try w.keel(["models", "history", "churn", "--json"])
        let tenures = try JSONDecoder().decode([StageTenure].self, from: Data(history.stdout.utf8))
        #expect(tenures.filter { $0.stage == .production }.map(\.version) == [1, 2, 1])
        #expect(tenures.last?.movedBy == "cat")

        let compare = try w.keel(["models", "compare", "churn@1", "churn@2"])
        #expect(compare.status == 0 && compare.stdout.contains("holdout of churn@1") && compare.stdout.contains("holdout of churn@2"))

        // The audit log holds every action with its actor; an edited head is caught with exit code 3.
        let key = try KeelProcess.run(["keys", "create", "--role", "predict", "--keys-file", w.registry + "/api-keys.json"], in: w.folder)
        #expect(key.status == 0)
        let export = try w.keel(["audit", "export", "--format", "jsonl"])
        #expect(!export.stdout.contains(key.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "the secret never reaches the log")
        let actions = export.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(AuditEntry.self, from: Data($0.utf8)) }
        for action in ["dataset.register", "run.train", "model.register", "model.promote", "model.approve", "model.rollback", "config.add", "key.create"] {
            #expect(actions.contains { $0.action == action }, "\(action) missing from the audit log")
        }
        #expect(try w.keel(["audit", "verify"]).status == 0)
        let head = w.registry + "/audit-head.json"
        let original = try String(contentsOfFile: head, encoding: .utf8)
        try original.replacingOccurrences(of: "\"count\":\(actions.count)", with: "\"count\":\(actions.count + 2)")
            .write(toFile: head, atomically: true, encoding: .utf8)
        let verify = try w.keel(["audit", "verify"])
        #expect(verify.status == 3 && verify.stderr.contains("deleted"), "\(verify.stderr)")
    }

    @Test func runsReproduceAndBundlesMoveBetweenRegistries() throws {
        let w = try Self.workspace()
        #expect(try w.keel(["train", w.data, "--target", "churned", "--time", "6s", "--quiet", "--name", "churn-fast"]).status == 0)
        let runs = try w.keel(["runs", "list", "--json"])
        let run = try #require(try JSONDecoder().decode([RunRecord].self, from: Data(runs.stdout.utf8)).first)
        let reproduce = try w.keel(["runs", "reproduce", String(run.id)])
        #expect(reproduce.status == 0 && reproduce.stdout.contains("reproduced"), "\(reproduce.stdout)\(reproduce.stderr)")

        let bundle = w.folder.appendingPathComponent("bundle.json").path
        #expect(try w.keel(["models", "export", "churn-fast@1", bundle]).status == 0)
        let other = w.folder.appendingPathComponent("prod-registry").path
        let imported = try KeelProcess.run(["models", "import", bundle, "--registry", other], in: w.folder)
        #expect(imported.status == 0 && imported.stdout.contains("imported churn-fast@1"), "\(imported.stderr)")
        let show = try KeelProcess.run(["models", "show", "churn-fast@1", "--registry", other, "--json"], in: w.folder)
        #expect(show.status == 0 && show.stdout.contains("\"holdoutSnapshot\""))
        #expect(try KeelProcess.run(["audit", "verify", "--registry", other], in: w.folder).status == 0)
        let gc = try w.keel(["gc", "--dry-run"])
        #expect(gc.status == 0 && gc.stdout.contains("0 files"))

        let missing = try w.keel(["predict", "nosuchmodel@3", w.data])
        #expect(missing.status == 1 && missing.stderr.contains("no model named 'nosuchmodel'"), "\(missing.stderr)")
    }

    /// A time-limited run whose column screen dropped a column reproduces to the same model from the registry.
    @Test func aScreenedRunReproduces() throws {
        let w = try Self.workspace()
        let data = w.folder.appendingPathComponent("noisy.csv").path
        try NoisyLevelsFixture.csv.write(toFile: data, atomically: true, encoding: .utf8)
        // A budget roomy enough that the screen (15% of it) finishes even on a loaded machine.
        let train = try w.keel(["train", data, "--target", "label", "--time", "30s", "--quiet", "--name", "noisy"])
        #expect(train.status == 0 && train.stdout.contains("column screen: dropped 'surname'"), "\(train.stdout)\(train.stderr)")
        let runs = try w.keel(["runs", "list", "--json"])
        let run = try #require(try JSONDecoder().decode([RunRecord].self, from: Data(runs.stdout.utf8)).first)
        let reproduce = try w.keel(["runs", "reproduce", String(run.id)])
        #expect(reproduce.status == 0 && reproduce.stdout.contains("reproduced"), "\(reproduce.stdout)\(reproduce.stderr)")
    }

    @Test func serverFollowsPromotionsAndRollbacksWithoutAFailedRequest() throws {
        let w = try Self.workspace()
        for learner in ["gbdt", "linear"] {
            #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", learner, "--quiet", "--out", "\(learner).keel"]).status == 0)
        }
        let notReady = try ServerProcess(["--registry", "--registry-path", w.registry, "--poll", "100ms", "--keys-file", w.folder.appendingPathComponent("none.json").path],
                                         in: w.folder)
        #expect(try notReady.client.get("/readyz").status == 503, "nothing in production yet")
        notReady.stop()
        #expect(try w.keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)
        let server = try ServerProcess(["--registry", "--registry-path", w.registry, "--poll", "100ms", "--keys-file", w.folder.appendingPathComponent("none.json").path],
                                       in: w.folder)
        let client = server.client
        let row = try #require(try ServedModels.jsonRows(csv: w.data, model: w.folder.appendingPathComponent("gbdt.keel").path).first)
        func servedVersion() throws -> String? {
            ((try client.post("/v1/models/churn/predict", row).json)?["model"] as? [String: Any])?["version"] as? String
        }
        #expect(try servedVersion() == "1")
        let stop = Atomic<Bool>(false)
        let failures = Mutex<[String]>([])
        let seen = Mutex<[String: Int]>([:])
        let done = DispatchGroup()
        for path in ["/v1/models/churn/predict", "/v1/predict"] {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                while !stop.load(ordering: .relaxed) {
                    do {
                        let response = try client.post(path, row)
                        let version = (response.json?["model"] as? [String: Any])?["version"] as? String ?? "?"
                        if response.status != 200 || !["1", "2"].contains(version) { failures.withLock { $0.append("\(response.status) \(response.body)") } }
                        seen.withLock { $0[version, default: 0] += 1 }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        var switchSeconds: [Double] = []
        for (command, expected) in [(["models", "promote", "churn", "2", "--to", "production"], "2"), (["models", "rollback", "churn"], "1")] {
            let started = Date()
            #expect(try w.keel(command).status == 0)
            while try servedVersion() != expected, Date().timeIntervalSince(started) < 10 { Thread.sleep(forTimeInterval: 0.02) }
            switchSeconds.append(Date().timeIntervalSince(started))
            #expect(try servedVersion() == expected)
        }
        stop.store(true, ordering: .relaxed)
        done.wait()
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
        #expect(Set(seen.withLock { $0 }.keys) == ["1", "2"], "\(seen.withLock { $0 })")
        #expect(switchSeconds.allSatisfy { $0 < 5 }, "\(switchSeconds)")
        #expect(try client.post("/v1/models/other/predict", row).status == 404)
        #expect(server.stop() == 0)
        let audit = try w.keel(["audit", "export"]).stdout
        #expect(audit.components(separatedBy: "\"server.reload\"").count - 1 == 3, "start, promotion, rollback")
        #expect(try w.keel(["audit", "verify"]).status == 0)
    }

    @Test func predictionLogFeedbackMonitorFromLogAndErasure() throws {
        let w = try Self.workspace()
        #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", "m.keel"]).status == 0)
        #expect(try w.keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)
        let key = w.folder.appendingPathComponent("hash.key").path
        #expect(try KeelProcess.run(["keys", "generate-encryption", "--out", key], in: w.folder).status == 0)
        let config = w.folder.appendingPathComponent("keel.yaml").path
        try """
        server:
          prediction_log:
            exclude: [usage_hours]
            hash: [customer_id]
            hash_key_file: \(key)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["--registry", "--registry-path", w.registry, "--log-predictions", "--config", config,
                                        "--keys-file", w.folder.appendingPathComponent("none.json").path], in: w.folder)
        let client = server.client
        let rows = try ServedModels.jsonRows(csv: w.data, model: w.folder.appendingPathComponent("m.keel").path)
        let labels = try String(contentsOfFile: w.data, encoding: .utf8).split(separator: "\n").dropFirst().map { String($0.split(separator: ",").last!) }
        var sent: [(request: String, row: Int, label: String)] = []
        for start in stride(from: 0, to: 300, by: 50) {
            let response = try client.post("/v1/models/churn/predict", "{\"rows\":[\(rows[start..<start + 50].joined(separator: ","))]}")
            #expect(response.status == 200)
            let id = try #require(response.json?["request_id"] as? String)
            for offset in 0..<50 { sent.append((id, offset, labels[start + offset])) }
        }
        // Labels arrive later, by request id and row; the log is written in the background.
        #expect(try Self.sendFeedback(client, sent.map { "{\"request_id\":\"\($0.request)\",\"row\":\($0.row),\"label\":\"\($0.label)\"}" }))
        let unknown = try client.post("/v1/feedback", "{\"request_id\":\"nope\",\"label\":\"yes\"}")
        #expect(unknown.status == 404 && unknown.errorCode == "unknown_prediction")
        let bad = try client.post("/v1/feedback", "{\"request_id\":\"x\",\"label\":\"yes\",\"extra\":1}")
        #expect(bad.status == 422 && bad.errorField == "extra")
        #expect(try client.get("/metrics").body.contains("keel_prediction_log_written_total 300"))
        #expect(server.stop() == 0)

        let monitor = try w.keel(["monitor", "churn", "--from-log", "--since", "1h", "--json", "--ignore", "customer_id"])
        #expect([0, 3].contains(monitor.status), "\(monitor.stderr)")
        #expect(monitor.stderr.contains("300 logged predictions of churn, 300 with feedback labels"), "\(monitor.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(monitor.stdout.utf8)) as? [String: Any])
        let features = try #require((report["dataDrift"] as? [String: Any])?["features"] as? [[String: Any]])
        let names = Set(features.compactMap { $0["name"] as? String })
        #expect(!names.contains("usage_hours") && names.contains("monthly_fee"), "excluded fields are not monitored: \(names)")
        let concept = try #require(report["conceptDrift"] as? [String: Any])
        #expect((concept["overall"] as? Double ?? 0) > 0.6, "labels joined to their predictions: \(concept["overall"] ?? "none")")

        // The id is stored only as its keyed hash; erasure by the raw id finds it through the same key.
        let customer = String(try String(contentsOfFile: w.data, encoding: .utf8).split(separator: "\n")[1].split(separator: ",")[0])
        let database = try ["", "-wal"].compactMap { try? String(contentsOfFile: w.registry + "/registry.sqlite" + $0, encoding: .isoLatin1) }.joined()
        #expect(database.contains("\"customer_id\":\"\(try KeyedHasher(file: key).hash(customer))\""), "the hashed id is in the log")
        #expect(!database.contains("\"customer_id\":\"\(customer)\""), "the raw id is not")
        let logged = try Registry(folder: w.registry, create: false).predictionLog(model: "churn", since: 0)
        #expect(logged.count == 300 && logged.allSatisfy { !$0.record.inputs.contains("usage_hours") }, "excluded fields are not stored")
        #expect(logged.filter { $0.label != nil }.count == 300 && logged.allSatisfy { $0.record.version == "1" })
        let purge = try w.keel(["log", "purge", "--id", customer, "--hash-key-file", key])
        #expect(purge.status == 0 && purge.stdout.contains("erased 1 logged prediction"), "\(purge.stdout)\(purge.stderr)")
        #expect(try w.keel(["log", "purge", "--id", customer, "--hash-key-file", key]).stdout.contains("erased 0"))
        #expect(try w.keel(["audit", "export"]).stdout.contains("log.purge"))
    }

    @Test func fairnessGatesAuditTheCandidatesHoldout() throws {
        let w = try Self.workspace()
        #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", "m.keel"]).status == 0)
        try "models:\n  churn:\n    fairness:\n      attributes: [region]\n      min_disparate_impact: 0.999\n      max_parity_difference: 0.001\n      min_group_size: 5\n"
            .write(toFile: w.registry + "/keel.yaml", atomically: true, encoding: .utf8)
        let blocked = try w.keel(["models", "promote", "churn", "1", "--to", "production"])
        #expect(blocked.status == 3 && blocked.stderr.contains("fairness region:") && blocked.stderr.contains("disparate impact ratio"), "\(blocked.stderr)")
        let forced = try w.keel(["models", "promote", "churn", "1", "--to", "production", "--force"])
        #expect(forced.status == 0 && forced.stdout.contains("gate fairness region: FAILED"), "\(forced.stdout)")
        try "models:\n  churn:\n    fairness:\n      attributes: [nosuch]\n".write(toFile: w.registry + "/keel.yaml", atomically: true, encoding: .utf8)
        #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "1", "--learner", "linear", "--quiet", "--out", "m2.keel"]).status == 0)
        let missing = try w.keel(["models", "promote", "churn", "2", "--to", "production"])
        #expect(missing.status == 3 && missing.stderr.contains("no column 'nosuch'"), "\(missing.stderr)")
        #expect(try w.keel(["audit", "export"]).stdout.contains("config.change"))
    }

    /// The example data drifts after June: a model of January–June, served and logged through the autumn, is
    /// retrained when its policy sees the drift, and the challenger is judged on the newest labelled rows.
    @Test func retrainFollowsItsPolicyAndPromotesOnlyAWinnerThroughTheGates() throws {
        let w = try Self.workspace()
        let example = try String(contentsOfFile: Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path, encoding: .utf8)
        let lines = example.split(separator: "\n").map(String.init)
        let early = w.folder.appendingPathComponent("churn.csv").path, later = w.folder.appendingPathComponent("later.csv").path
        try ([lines[0]] + lines.dropFirst().filter { $0.split(separator: ",")[1] < "2024-07" }).joined(separator: "\n").write(toFile: early, atomically: true, encoding: .utf8)
        try ([lines[0]] + lines.dropFirst().filter { $0.split(separator: ",")[1] >= "2024-07" }).joined(separator: "\n").write(toFile: later, atomically: true, encoding: .utf8)
        #expect(try w.keel(["train", early, "--target", "churned", "--trials", "3", "--quiet", "--out", "m.keel"]).status == 0)
        #expect(try w.keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)

        // Nothing logged yet: nothing to judge, so no retraining.
        try "models:\n  churn:\n    retrain:\n      drift_features: 2\n      window: 1d\n      time: 8s\n".write(toFile: w.registry + "/keel.yaml", atomically: true, encoding: .utf8)
        let idle = try w.keel(["retrain", "churn"])
        #expect(idle.status == 0 && idle.stdout.contains("no retraining needed"), "\(idle.stdout)\(idle.stderr)")

        let server = try ServerProcess(["--registry", "--registry-path", w.registry, "--log-predictions", "--keys-file", w.folder.appendingPathComponent("none.json").path],
                                       in: w.folder)
        let rows = try ServedModels.jsonRows(csv: later, model: w.folder.appendingPathComponent("m.keel").path)
        let labels = try String(contentsOfFile: later, encoding: .utf8).split(separator: "\n").dropFirst().map { String($0.split(separator: ",").last!) }
        var feedback: [String] = []
        for start in stride(from: 0, to: 1000, by: 100) {
            let response = try server.client.post("/v1/predict", "{\"rows\":[\(rows[start..<start + 100].joined(separator: ","))]}")
            let id = try #require(response.json?["request_id"] as? String)
            feedback += (0..<100).map { "{\"request_id\":\"\(id)\",\"row\":\($0),\"label\":\"\(labels[start + $0])\"}" }
        }
        #expect(try Self.sendFeedback(server.client, feedback))
        #expect(server.stop() == 0)

        let retrain = try w.keel(["retrain", "churn", "--promote", "--by", "ops"])
        #expect(retrain.stderr.contains("features drifted"), "the policy saw the drift: \(retrain.stderr)")
        #expect(retrain.stderr.contains("+ 700 labelled predictions; 300 newer ones kept back"), "\(retrain.stderr)")
        #expect(retrain.stdout.contains("registered churn@2 (candidate)"), "\(retrain.stdout)")
        // The decision follows the scores printed on the kept-back rows: promoted if and only if the challenger wins.
        let wins = retrain.stdout.contains("the challenger wins")
        #expect(wins ? (retrain.status == 0 && retrain.stdout.contains("churn@2 is now in production")) : (retrain.status == 3), "\(retrain.stdout)\(retrain.stderr)")
        let audit = try w.keel(["audit", "export"]).stdout
        #expect(audit.contains("model.retrain") && audit.contains("challenger_wins"))
        #expect(try w.keel(["audit", "verify"]).status == 0)
    }

    @Test func shadowScoresLiveTrafficWithoutChangingResponses() throws {
        let w = try Self.workspace()
        for learner in ["gbdt", "linear"] {
            #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", learner, "--quiet", "--out", "\(learner).keel"]).status == 0)
        }
        #expect(try w.keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)
        #expect(try w.keel(["models", "promote", "churn", "2", "--to", "staging"]).status == 0)
        let server = try ServerProcess(["--registry", "--registry-path", w.registry, "--shadow", "--log-predictions",
                                        "--keys-file", w.folder.appendingPathComponent("none.json").path], in: w.folder)
        let rows = try ServedModels.jsonRows(csv: w.data, model: w.folder.appendingPathComponent("gbdt.keel").path)
        let labels = try String(contentsOfFile: w.data, encoding: .utf8).split(separator: "\n").dropFirst().map { String($0.split(separator: ",").last!) }
        var feedback: [String] = []
        for start in stride(from: 0, to: 200, by: 50) {
            let response = try server.client.post("/v1/models/churn/predict", "{\"rows\":[\(rows[start..<start + 50].joined(separator: ","))]}")
            #expect(response.status == 200 && (response.json?["model"] as? [String: Any])?["version"] as? String == "1", "only the champion answers")
            let id = try #require(response.json?["request_id"] as? String)
            feedback += (0..<50).map { "{\"request_id\":\"\(id)\",\"row\":\($0),\"label\":\"\(labels[start + $0])\"}" }
        }
        #expect(try Self.sendFeedback(server.client, feedback))
        #expect(try Self.awaitLogged(server.client, 400), "200 answers and 200 shadow answers")
        #expect(server.stop() == 0)
        let report = try w.keel(["models", "shadow", "churn", "--json"])
        #expect(report.status == 0, "\(report.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        #expect(document["pairedRows"] as? Int == 200 && document["labelledRows"] as? Int == 200, "\(document)")
        #expect(document["champion"] as? [String] == ["1"] && document["shadow"] as? [String] == ["2"])
        let agreement = try #require(document["agreement"] as? Double)
        #expect(agreement > 0.5 && agreement <= 1)
        #expect((document["championScore"] as? Double ?? 0) > 0.5 && (document["shadowScore"] as? Double ?? 0) > 0.5)
        let monitor = try w.keel(["monitor", "churn", "--from-log", "--json"])
        #expect(monitor.stderr.contains("200 logged predictions of churn"), "shadow answers are not the champion's: \(monitor.stderr)")
    }

    @Test func serversBackgroundJobRetrainsByPolicyAndServesWhatItPromotes() throws {
        let w = try Self.workspace()
        #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", "m.keel"]).status == 0)
        #expect(try w.keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)
        try "models:\n  churn:\n    retrain:\n      every: 1s\n      time: 3s\n".write(toFile: w.registry + "/keel.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(["--registry", "--registry-path", w.registry, "--poll", "200ms", "--retrain-every", "1s",
                                        "--keys-file", w.folder.appendingPathComponent("none.json").path], in: w.folder)
        let deadline = Date().addingTimeInterval(40)
        var version = "1"
        while version == "1", Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            version = ((try server.client.get("/readyz").json?["models"] as? [[String: Any]])?.first?["version"] as? String) ?? "?"
        }
        #expect(version != "1", "the job retrained (the model is older than 1s), promoted the challenger, and the server follows: \(server.stderr)")
        #expect(server.stderr.contains("retrain job for churn: exit 0"))
        server.stop()
        #expect(try w.keel(["audit", "export"]).stdout.contains("keel serve (retrain job)"))
    }

    /// Under overload the log drops and counts records; predictions are answered all the same.
    @Test func aFullLogQueueDropsAndCountsRecordsWithoutFailingPredictions() throws {
        let w = try Self.workspace()
        #expect(try w.keel(["train", w.data, "--target", "churned", "--trials", "1", "--learner", "linear", "--quiet", "--out", "m.keel"]).status == 0)
        let config = w.folder.appendingPathComponent("keel.yaml").path
        try "server:\n  prediction_log:\n    queue_capacity: 10\n".write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["m.keel", "--registry-path", w.registry, "--config", config,
                                        "--keys-file", w.folder.appendingPathComponent("none.json").path], in: w.folder)
        let rows = try ServedModels.jsonRows(csv: w.data, model: w.folder.appendingPathComponent("m.keel").path)
        let big = try server.client.post("/v1/predict", "{\"rows\":[\(rows[0..<100].joined(separator: ","))]}")
        #expect(big.status == 200 && (big.json?["predictions"] as? [Any])?.count == 100, "the request is answered")
        let single = try server.client.post("/v1/predict", rows[0])
        #expect(single.status == 200)
        #expect(try Self.awaitLogged(server.client, 1), "the one-row request fits the queue and is written")
        #expect(try server.client.get("/metrics").body.contains("keel_prediction_log_dropped_total 100"), "the batch of 100 did not fit a queue of 10")
        #expect(server.stop() == 0)
    }
}
