import Foundation
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
        #expect(blocked.status == 1 && blocked.stderr.contains("approval: 0 of 1 required approvals"), "\(blocked.stderr)")
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
}
