import Foundation
import KeelArtifact
import KeelRegistry
import KeelTestSupport
import Testing

/// Keys kept in a registry on PostgreSQL: its signing key signs what is registered and a server following it
/// verifies against it; API keys issued with `--registry URL` are the ones every following server accepts,
/// and a revoked key stops working without a restart.
@Suite(.serialized) struct PostgresKeysCommandTests {
    @Test(.enabled(if: PostgresRegistryCommandTests.serverURL != nil)) func signingAndAPIKeysLiveInTheRegistry() async throws {
        let (folder, data, url, environment) = try await PostgresRegistryCommandTests.workspace("keel-pg-keys")
        func keel(_ arguments: [String]) throws -> KeelProcess.Result {
            try KeelProcess.run(arguments, in: folder, environment: environment)
        }
        let signing = try keel(["keys", "generate-signing", "--registry", url])
        #expect(signing.status == 0, "\(signing.stderr)")
        let publicKey = signing.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try keel(["keys", "generate-signing", "--registry", url]).status != 0, "an existing key is replaced only with --force")
        let trained = try keel(["train", data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", "m.keel", "--registry", url])
        #expect(trained.status == 0, "\(trained.stderr)")
        let info = try keel(["model", "info", "m.keel", "--json"])
        // JSON may escape the key's slashes.
        #expect(info.stdout.replacingOccurrences(of: "\\/", with: "/").contains(publicKey), "the registry's key signed the model")
        #expect(try keel(["models", "promote", "churn", "1", "--to", "production", "--registry", url]).status == 0)

        let created = try keel(["keys", "create", "--role", "predict", "--name", "app", "--registry", url])
        #expect(created.status == 0, "\(created.stderr)")
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // A second key stays: with none left, a server is open to all (and says so).
        #expect(try keel(["keys", "create", "--role", "admin", "--name", "ops", "--registry", url]).status == 0)
        let list = try keel(["keys", "list", "--registry", url])
        #expect(list.stdout.contains("app") && list.stdout.contains("predict") && !list.stdout.contains(secret))

        let server = try ServerProcess(["--registry", "--registry-path", url, "--poll", "30s"], in: folder, environment: environment)
        #expect(!server.stderr.contains("models are not verified"), "the registry's key verifies what is served: \(server.stderr)")
        let row = try #require(try ServedModels.jsonRows(csv: data, model: folder.appendingPathComponent("m.keel").path).first)
        let client = server.client
        #expect(try client.post("/v1/models/churn/predict", row).status == 401, "the registry's keys are in force")
        let authorised = ["Authorization": "Bearer \(secret)"]
        #expect(try client.post("/v1/models/churn/predict", row, headers: authorised).status == 200)

        let id = try #require(list.stdout.split(separator: "\n").first { $0.contains("app") }?.split(separator: " ").first.map(String.init))
        #expect(try keel(["keys", "revoke", id, "--registry", url]).status == 0)
        let revoked = Date()
        while try client.post("/v1/models/churn/predict", row, headers: authorised).status == 200, Date().timeIntervalSince(revoked) < 20 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try client.post("/v1/models/churn/predict", row, headers: authorised).status == 401,
                "a revoked key stops working without a restart (the server polls every 30 s; the notification did it): \(server.stderr.suffix(1500))")
        #expect(server.stop() == 0)
        let audit = try keel(["audit", "export", "--registry", url]).stdout
        for action in ["signing-key.create", "key.create", "key.revoke"] { #expect(audit.contains(action), "\(action) is audited") }
        #expect(try keel(["audit", "verify", "--registry", url]).status == 0)
    }

    /// A registry on PostgreSQL holds its keel.yaml: pushed once, its gates apply to every host's promotions,
    /// and a copy of the registry carries it.
    @Test(.enabled(if: PostgresRegistryCommandTests.serverURL != nil)) func gatesComeFromTheKeelYamlInTheDatabase() async throws {
        let (folder, data, url, environment) = try await PostgresRegistryCommandTests.workspace("keel-pg-config")
        func keel(_ arguments: [String]) throws -> KeelProcess.Result {
            try KeelProcess.run(arguments + ["--registry", url], in: folder, environment: environment)
        }
        #expect(try keel(["train", data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", "m.keel"]).status == 0)
        let yaml = folder.appendingPathComponent("keel.yaml").path
        try "models:\n  churn:\n    gates:\n      required_approvals: 1\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let broken = folder.appendingPathComponent("broken.yaml").path
        try "models: [unclosed\n".write(toFile: broken, atomically: true, encoding: .utf8)
        #expect(try keel(["registry", "config", "push", broken]).status != 0, "a file that does not read is refused before it is stored")
        let pushed = try keel(["registry", "config", "push", yaml])
        #expect(pushed.status == 0 && pushed.stdout.contains("stored"), "\(pushed.stdout)\(pushed.stderr)")
        #expect(try keel(["registry", "config", "show"]).stdout.contains("required_approvals: 1"))
        let blocked = try keel(["models", "promote", "churn", "1", "--to", "production"])
        #expect(blocked.status == 3 && blocked.stderr.contains("approval: 0 of 1 required approvals"), "\(blocked.stderr)")
        #expect(try keel(["models", "approve", "churn", "1", "--by", "ann"]).status == 0)
        #expect(try keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)
        let copy = folder.appendingPathComponent("copy").path
        #expect(try KeelProcess.run(["registry", "copy", "--from", url, "--to", copy], in: folder, environment: environment).status == 0)
        #expect(try String(contentsOfFile: copy + "/keel.yaml", encoding: .utf8).contains("required_approvals: 1"), "the copy carries keel.yaml")
        let audit = try keel(["audit", "export"]).stdout
        #expect(audit.contains("config.add"), "the push is audited")
    }

    /// Humility rules pushed into the database reach a following server without a restart (the push notifies).
    @Test(.enabled(if: PostgresRegistryCommandTests.serverURL != nil)) func aFollowingServerTakesRulesPushedIntoTheDatabase() async throws {
        let (folder, data, url, environment) = try await PostgresRegistryCommandTests.workspace("keel-pg-rules")
        func keel(_ arguments: [String]) throws -> KeelProcess.Result {
            try KeelProcess.run(arguments + ["--registry", url], in: folder, environment: environment)
        }
        #expect(try keel(["train", data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--out", "m.keel"]).status == 0)
        #expect(try keel(["models", "promote", "churn", "1", "--to", "production"]).status == 0)
        let yaml = folder.appendingPathComponent("keel.yaml").path
        try "models:\n  churn:\n    humility:\n      - {name: first, trigger: uncertain, max_probability_below: 0.99, action: flag}\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        #expect(try keel(["registry", "config", "push", yaml]).status == 0)
        let server = try ServerProcess(["--registry", "--registry-path", url, "--poll", "30s", "--keys-file", folder.appendingPathComponent("none.json").path],
                                       in: folder, environment: environment)
        defer { server.stop() }
        let rows = try ServedModels.jsonRows(csv: data, model: folder.appendingPathComponent("m.keel").path)
        let body = "{\"rows\":[\(rows.prefix(40).joined(separator: ","))]}"
        func rules() throws -> Set<String> {
            let response = try server.client.post("/v1/models/churn/predict", body)
            return Set((response.json?["predictions"] as? [[String: Any]] ?? []).flatMap { item in
                (item["flags"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
            })
        }
        #expect(try rules() == ["first"], "the rules in the database are in force from the start")
        try "models:\n  churn:\n    humility:\n      - {name: second, trigger: uncertain, max_probability_below: 0.99, action: flag}\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        #expect(try keel(["registry", "config", "push", yaml]).status == 0)
        let pushed = Date()
        while try rules() != ["second"], Date().timeIntervalSince(pushed) < 20 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try rules() == ["second"], "the pushed rule is in force without a restart (polling is 30 s away)")
    }
}
