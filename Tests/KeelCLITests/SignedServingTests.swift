import Foundation
import KeelArtifact
import KeelRegistry
import KeelTestSupport
import Testing

/// Signed by default where it matters: a registry with a signing key signs what it registers, and a server
/// following it serves only what that key signed (unsigned models with --allow-unsigned and a warning,
/// wrongly signed ones never); a model file or a keyless registry is served with a warning.
@Suite(.serialized) struct SignedServingTests {
    /// One registry trained once, copied by each test: churn@1 registered before the registry had a key
    /// (unsigned), churn@2 before it too but signed with another key (`--sign-key-file other.key`), churn@3
    /// after `keel keys generate-signing --registry` (with `--sign-key-file other.key` for its --out copy).
    struct Setup: Sendable {
        var folder: URL
        var data: String
    }

    static let setup: Setup = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-signed-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = folder.appendingPathComponent("churn.csv").path
        try! CustomerChurnFixture.csv.write(toFile: data, atomically: true, encoding: .utf8)
        func keel(_ arguments: [String]) {
            let result = try! KeelProcess.run(arguments, in: folder)
            precondition(result.status == 0, "keel \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        let train = ["train", data, "--target", "churned", "--trials", "2", "--learner", "linear", "--quiet", "--registry", "reg"]
        keel(["keys", "generate-signing", "--out", "other"])
        keel(train + ["--out", "v1.keel"])
        keel(train + ["--out", "v2.keel", "--sign-key-file", "other.key"])
        keel(["keys", "generate-signing", "--registry", "reg"])
        keel(train + ["--out", "v3.keel", "--sign-key-file", "other.key"])
        return Setup(folder: folder, data: data)
    }()

    /// A copy of the set-up registry (and the files beside it) that a test may change.
    struct Workspace {
        var folder: URL
        var registry: String { folder.appendingPathComponent("reg").path }

        func keel(_ arguments: [String]) throws -> KeelProcess.Result {
            try KeelProcess.run(arguments, in: folder)
        }

        func promote(_ version: Int) throws {
            let result = try keel(["models", "promote", "churn", String(version), "--to", "production", "--registry", registry])
            #expect(result.status == 0, "\(result.stderr)")
        }

        /// `keel serve --registry` on this registry with `extra` flags.
        func serverArguments(_ extra: [String] = []) -> [String] {
            ["--registry", "--registry-path", registry, "--poll", "100ms", "--keys-file", folder.appendingPathComponent("none.json").path] + extra
        }

        /// The server's error when it refuses to start, nil when it started.
        func refusal(_ arguments: [String]) -> String? {
            do {
                let server = try ServerProcess(arguments, in: folder)
                server.stop()
                return nil
            } catch {
                return String(describing: error)
            }
        }
    }

    static func workspace() throws -> Workspace {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-signed-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: setup.folder, to: folder)
        return Workspace(folder: folder)
    }

    static func servedVersion(_ server: ServerProcess) throws -> String? {
        let row = try #require(try ServedModels.jsonRows(csv: setup.data, model: setup.folder.appendingPathComponent("v1.keel").path).first)
        let response = try server.client.post("/v1/models/churn/predict", row)
        guard response.status == 200 else { return nil }
        return (response.json?["model"] as? [String: Any])?["version"] as? String
    }

    /// Waits up to 10 s for `text` in the server's log.
    static func awaitLog(_ server: ServerProcess, _ text: String) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if server.stderr.contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    @Test func theRegistryKeySignsWhatItRegistersAndAnExplicitKeySignsTheOutCopy() throws {
        let w = try Self.workspace()
        let pub = w.registry + "/signing.pub"
        let registered = try w.keel(["model", "info", "churn@3", "--verify-key-file", pub, "--registry", w.registry])
        #expect(registered.status == 0 && registered.stdout.contains("(verified)"), "\(registered.stdout)\(registered.stderr)")
        let copy = try w.keel(["model", "info", "v3.keel", "--verify-key-file", "other.pub"])
        #expect(copy.status == 0 && copy.stdout.contains("(verified)"), "--sign-key-file signs the --out copy: \(copy.stderr)")
        #expect(try w.keel(["model", "info", "v3.keel", "--verify-key-file", pub]).status == 1, "the --out copy is not the registry's")
        let before = try w.keel(["model", "info", "churn@1", "--verify-key-file", pub, "--registry", w.registry])
        #expect(before.status == 1 && before.stderr.contains("is not signed"), "\(before.stderr)")
        let permissions = try FileManager.default.attributesOfItem(atPath: w.registry + "/signing.key")[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }

    @Test func keyGenerationRefusesToReplaceAKeyWithoutForceAndAuditsBoth() throws {
        let w = try Self.workspace()
        let fresh = w.folder.appendingPathComponent("fresh").path
        let created = try w.keel(["keys", "generate-signing", "--registry", fresh])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains(fresh + "/signing.key") && created.stdout.contains(fresh + "/signing.pub"))
        #expect(created.stderr.contains("signs every model registered from now on"), "\(created.stderr)")
        let key = try String(contentsOfFile: fresh + "/signing.key", encoding: .utf8)
        let again = try w.keel(["keys", "generate-signing", "--registry", fresh])
        #expect(again.status == 1 && again.stderr.contains("already has a signing key") && again.stderr.contains("--force"), "\(again.stderr)")
        #expect(try String(contentsOfFile: fresh + "/signing.key", encoding: .utf8) == key, "the key is unchanged")
        let forced = try w.keel(["keys", "generate-signing", "--registry", fresh, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOfFile: fresh + "/signing.key", encoding: .utf8) != key, "--force replaces the key")
        let audit = try w.keel(["audit", "export", "--registry", fresh])
        #expect(audit.stdout.contains("\"signing-key.create\"") && audit.stdout.contains("\"signing-key.replace\""), "\(audit.stdout)")
        #expect(try w.keel(["audit", "verify", "--registry", fresh]).status == 0)

        // Replacing the key of the set-up registry: its production model no longer verifies, and it says so.
        try w.promote(3)
        let replaced = try w.keel(["keys", "generate-signing", "--registry", w.registry, "--force"])
        #expect(replaced.status == 0 && replaced.stderr.contains("not signed by this key: churn@3 (production)"), "\(replaced.stderr)")
        let refused = w.refusal(w.serverArguments(["--allow-unsigned"]))
        #expect(refused?.contains("churn@3 is signed by a key this server does not trust") == true, "\(refused ?? "it started")")
    }

    @Test func servesWhatTheRegistrySignedAndKeepsItWhenAnUnsignedVersionIsPromoted() throws {
        let w = try Self.workspace()
        try w.promote(3)
        let server = try ServerProcess(w.serverArguments(), in: w.folder)
        #expect(try Self.servedVersion(server) == "3")
        #expect(!server.stderr.contains("level=warning msg=\"models are not verified"), "\(server.stderr)")
        try w.promote(1)
        #expect(Self.awaitLog(server, "production model churn@1 is not signed"), "\(server.stderr)")
        #expect(server.stderr.contains("level=error"), "\(server.stderr)")
        #expect(try Self.servedVersion(server) == "3", "the previous version keeps serving")
        // Said once, not at every poll of the registry (it polls each second).
        Thread.sleep(forTimeInterval: 3)
        #expect(server.stderr.components(separatedBy: "churn@1 is not signed").count - 1 == 1, "\(server.stderr)")
        #expect(server.stop() == 0)
    }

    @Test func anUnsignedProductionModelIsRefusedAtStartUnlessAllowed() throws {
        let w = try Self.workspace()
        try w.promote(1)
        let refused = w.refusal(w.serverArguments())
        #expect(refused?.contains("production model churn@1 is not signed") == true && refused?.contains("--allow-unsigned") == true,
                "\(refused ?? "it started")")
        let byReference = w.refusal(["churn@production", "--registry-path", w.registry, "--keys-file", w.folder.appendingPathComponent("none.json").path])
        #expect(byReference?.contains("churn@production is not signed") == true && byReference?.contains("--allow-unsigned") == true,
                "\(byReference ?? "it started")")

        let allowed = try ServerProcess(w.serverArguments(["--allow-unsigned"]), in: w.folder)
        #expect(try Self.servedVersion(allowed) == "1")
        #expect(allowed.stderr.contains("level=warning msg=\"serving an unsigned model (--allow-unsigned)"), "\(allowed.stderr)")
        #expect(allowed.stderr.contains("model=churn") && allowed.stderr.contains("version=1"), "\(allowed.stderr)")
        #expect(allowed.stop() == 0)

        let config = w.folder.appendingPathComponent("keel.yaml").path
        try "server:\n  allow_unsigned: true\n".write(toFile: config, atomically: true, encoding: .utf8)
        let configured = try ServerProcess(w.serverArguments(["--config", config]), in: w.folder)
        #expect(try Self.servedVersion(configured) == "1")
        #expect(configured.stop() == 0)
    }

    @Test func aWronglySignedModelIsRefusedEvenWithAllowUnsigned() throws {
        let w = try Self.workspace()
        // churn@2 was signed with another key before the registry had its own.
        try w.promote(2)
        let refused = w.refusal(w.serverArguments(["--allow-unsigned"]))
        #expect(refused?.contains("production model churn@2 is signed by a key this server does not trust") == true, "\(refused ?? "it started")")

        try w.promote(3)
        let server = try ServerProcess(w.serverArguments(["--allow-unsigned"]), in: w.folder)
        #expect(try Self.servedVersion(server) == "3")
        #expect(try w.keel(["models", "rollback", "churn", "--registry", w.registry]).status == 0)
        #expect(Self.awaitLog(server, "production model churn@2 is signed by a key this server does not trust"), "\(server.stderr)")
        #expect(try Self.servedVersion(server) == "3", "a refused rollback keeps the current version in service")
        #expect(server.stop() == 0)
    }

    @Test func aRegisteredFileReSignedAfterRegistrationIsRefused() throws {
        let w = try Self.workspace()
        let store = try Registry(folder: w.registry, create: false)
        let path = store.artifactPath(try store.resolve(try #require(ModelReference("churn@3"))))
        let original = try #require(FileManager.default.contents(atPath: path))
        // Someone who can write the artifacts folder but does not hold the registry's key.
        let forged = try Artifact.resigned(Array(original), with: try SigningKey(file: w.folder.appendingPathComponent("other.key").path), path: path)
        #expect(Array(original) != forged)
        try Data(forged).write(to: URL(fileURLWithPath: path))
        try w.promote(3)
        let refused = w.refusal(w.serverArguments(["--allow-unsigned"]))
        #expect(refused?.contains("production model churn@3 is signed by a key this server does not trust") == true, "\(refused ?? "it started")")
        try Data(original).write(to: URL(fileURLWithPath: path))
        let restored = try ServerProcess(w.serverArguments(), in: w.folder)
        #expect(try Self.servedVersion(restored) == "3", "the registered file serves again")
        #expect(restored.stop() == 0)
    }

    @Test func aRegistryWithoutAKeyIsServedWithAWarning() throws {
        let w = try Self.workspace()
        for file in ["signing.key", "signing.pub"] { try FileManager.default.removeItem(atPath: w.registry + "/" + file) }
        try w.promote(1)
        let server = try ServerProcess(w.serverArguments(), in: w.folder)
        #expect(try Self.servedVersion(server) == "1")
        #expect(server.stderr.contains("level=warning msg=\"models are not verified"), "\(server.stderr)")
        #expect(server.stderr.contains("keel keys generate-signing --registry \(w.registry)"), "\(server.stderr)")
        #expect(server.stop() == 0)
    }

    @Test func aModelFileIsServedWithAWarningWhenUnsignedOrUnchecked() throws {
        let w = try Self.workspace()
        let keys = ["--keys-file", w.folder.appendingPathComponent("none.json").path]
        let unsigned = try ServerProcess(["v1.keel"] + keys, in: w.folder)
        #expect(unsigned.stderr.contains("level=warning msg=\"the model is not signed"), "\(unsigned.stderr)")
        #expect(unsigned.stderr.contains("--verify-key-file"))
        unsigned.stop()
        let unchecked = try ServerProcess(["v3.keel"] + keys, in: w.folder)
        #expect(unchecked.stderr.contains("level=warning msg=\"the model is signed, but its signature is not checked"), "\(unchecked.stderr)")
        #expect(unchecked.stderr.contains("--verify-key-file"))
        unchecked.stop()
        let verified = try ServerProcess(["v3.keel", "--verify-key-file", "other.pub"] + keys, in: w.folder)
        #expect(!verified.stderr.contains("level=warning msg=\"the model"), "a verified model needs no warning: \(verified.stderr)")
        verified.stop()
    }

    @Test func anImportedModelIsSignedByTheImportingRegistry() throws {
        let w = try Self.workspace()
        let bundle = w.folder.appendingPathComponent("churn1.bundle").path
        #expect(try w.keel(["models", "export", "churn@1", bundle, "--registry", w.registry]).status == 0)
        let production = w.folder.appendingPathComponent("prod").path
        #expect(try w.keel(["keys", "generate-signing", "--registry", production]).status == 0)
        let imported = try w.keel(["models", "import", bundle, "--registry", production])
        #expect(imported.status == 0 && imported.stdout.contains("signed with the registry's key"), "\(imported.stderr)")
        let info = try w.keel(["model", "info", "churn@1", "--verify-key-file", production + "/signing.pub", "--registry", production])
        #expect(info.status == 0 && info.stdout.contains("(verified)"), "\(info.stdout)\(info.stderr)")
        #expect(try w.keel(["audit", "verify", "--registry", production]).status == 0)
    }
}
