import Foundation
import KeelData
import KeelTestSupport
import Testing

/// Privacy rules end to end: planted identifiers go through training, serving (with the prediction log,
/// feedback and explanations), batch scoring and a snapshot export, and then are in no file Keel wrote.
@Suite struct PrivacyCommandTests {
    /// A seeded table with a customer id, an e-mail address, a phone number and an SSN per row, and an age;
    /// returns the folder, the planted raw values and a 32-byte key file.
    static func workspace(rows: Int = 240) throws -> (dir: URL, planted: [String], key: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-privacy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: 29)
        var lines = ["customer,email,phone,ssn,age,born,plan,spend,y"]
        var planted: [String] = []
        for i in 0..<rows {
            let age = 20 + Int(generator.nextUnit() * 50)
            let spend = (generator.nextUnit() * 10_000).rounded() / 100
            let label = spend + Double(age) * 0.5 + generator.nextUnit() * 20 > 60 ? "yes" : "no"
            let (customer, email, phone) = (String(format: "CUST%05d", 7_000 + i), "planted.person\(i)@mail-example.org", String(format: "+1 415 555 %04d", 2_000 + i))
            let ssn = String(format: "%03d-%02d-%04d", 200 + i % 500, 11 + i % 80, 3_000 + i)
            planted += [customer, email, phone, ssn]
            let born = String(format: "%04d-%02d-%02d", 2_024 - age, 1 + i % 12, 1 + i % 28)
            lines.append("\(customer),\(email),\(phone),\(ssn),\(age),\(born),\(["basic", "plus", "pro"][i % 3]),\(spend),\(label)")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("people.csv"), atomically: true, encoding: .utf8)
        let key = dir.appendingPathComponent("pii.key").path
        var keyGenerator = SeededGenerator(seed: 30)
        let keyBytes = (0..<32).map { _ in UInt8(keyGenerator.next() & 0xFF) }
        try Data(keyBytes).base64EncodedString().write(toFile: key, atomically: true, encoding: .utf8)
        return (dir, planted, key)
    }

    /// Every file under `folder`, recursively.
    static func files(under folder: URL) -> [URL] {
        (FileManager.default.subpaths(atPath: folder.path) ?? []).map { folder.appendingPathComponent($0) }.filter { url in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }

    @Test func plantedIdentifiersAreInNoFileKeelWrites() throws {
        let (dir, planted, key) = try Self.workspace()
        let train = try Self.keel(["train", "people.csv", "--target", "y", "--trials", "2", "--learner", "gbdt", "--out", "m.keel", "--report", "report",
                                         "--privacy", "customer=pseudonymise", "--privacy", "age=generalise", "--privacy", "born=generalise",
                                         "--pii-key-file", key], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("privacy: dropping 'email' (e-mail addresses, direct identifier)"), "\(train.stderr)")
        #expect(train.stderr.contains("privacy: generalising 'age' (ages, quasi-identifier) into bands of 10"))
        #expect(train.stdout.contains("'ssn' holds US social security numbers") && train.stdout.contains("dropped by the privacy policy"), "the report says it")

        // Serving: predictions with the prediction log on, feedback, explanations.
        let server = try ServerProcess(["m.keel", "--log-predictions", "--pii-key-file", key, "--keys-file", dir.appendingPathComponent("none.json").path], in: dir)
        let rows = (0..<5).map { i in
            "{\"customer\":\"\(planted[4 * i])\",\"email\":\"\(planted[4 * i + 1])\",\"phone\":\"\(planted[4 * i + 2])\",\"ssn\":\"\(planted[4 * i + 3])\",\"age\":37,\"born\":\"1987-06-15\",\"plan\":\"plus\",\"spend\":42.5}"
        }
        let predicted = try server.client.post("/v1/predict", "{\"rows\":[\(rows.joined(separator: ","))]}")
        #expect(predicted.status == 200, "\(predicted.body)")
        let requestID = try #require(predicted.json?["request_id"] as? String)
        let said = try #require(predicted.json?["privacy"] as? [String: Any], "the response says what the rules did")
        #expect(said["dropped"] as? [String] == ["email", "phone", "ssn"] && said["pseudonymised"] as? [String] == ["customer"]
                && (said["generalised"] as? [String: String]) == ["age": "generalise", "born": "generalise"], "\(said)")
        // A number where a generalised date goes is refused like any wrong type, and the server stays up.
        let absurd = try server.client.post("/v1/predict", rows[1].replacingOccurrences(of: "\"1987-06-15\"", with: "1e300"))
        #expect(absurd.status == 422 && absurd.errorField == "born", "\(absurd.body)")
        #expect(try RegistryCommandTests.sendFeedback(server.client, ["{\"request_id\":\"\(requestID)\",\"row\":0,\"label\":\"yes\"}"]))
        // The first rows of the file as a client sends them: the same rules as `keel predict` applies, the same answers.
        let fileLines = try String(contentsOf: dir.appendingPathComponent("people.csv"), encoding: .utf8).split(separator: "\n").dropFirst().prefix(3)
        let asSent = fileLines.map { line -> String in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return "{\"customer\":\"\(f[0])\",\"email\":\"\(f[1])\",\"phone\":\"\(f[2])\",\"ssn\":\"\(f[3])\",\"age\":\(f[4]),\"born\":\"\(f[5])\",\"plan\":\"\(f[6])\",\"spend\":\(f[7])}"
        }
        let sameRows = try server.client.post("/v1/predict", "{\"rows\":[\(asSent.joined(separator: ","))]}")
        #expect(sameRows.status == 200, "\(sameRows.body)")
        let served = try #require(sameRows.json?["predictions"] as? [[String: Any]]).map { ($0["probabilities"] as? [String: Double])?["yes"] ?? -1 }
        let explained = try server.client.post("/v1/explain", rows[0])
        #expect(explained.status == 200, "\(explained.body)")
        server.stop()
        // Erasure by the raw id finds the pseudonymised one, given the key: the subject is in two requests.
        let purge = try Self.keel(["log", "purge", "--id", planted[0], "--pii-key-file", key], in: dir)
        #expect(purge.status == 0 && purge.stdout.contains("erased 2 logged predictions"), "\(purge.stdout) \(purge.stderr)")
        var written: [(String, String)] = [("the explanation response", explained.body), ("the prediction response", predicted.body)]

        // Batch scoring and a local explanation, with the key; without it, an error naming the flag and no file.
        let scored = try Self.keel(["predict", "m.keel", "people.csv", "--out", "predictions.csv", "--pii-key-file", key], in: dir)
        #expect(scored.status == 0, "\(scored.stderr)")
        let scoredLines = try String(contentsOf: dir.appendingPathComponent("predictions.csv"), encoding: .utf8).split(separator: "\n")
        let yes = try #require(scoredLines[0].split(separator: ",").firstIndex(of: "proba_yes"))
        let batch = scoredLines[1...3].map { Double($0.split(separator: ",")[yes])! }
        #expect(zip(served, batch).allSatisfy { abs($0 - $1) < 1e-5 }, "served \(served), keel predict \(batch)")
        let keyless = try Self.keel(["predict", "m.keel", "people.csv", "--out", "keyless.csv"], in: dir)
        #expect(keyless.status != 0 && keyless.stderr.contains("--pii-key-file"), "\(keyless.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("keyless.csv").path))
        let explainedLocally = try Self.keel(["explain", "m.keel", "people.csv", "--rows", "0,1", "--json", "--pii-key-file", key], in: dir)
        #expect(explainedLocally.status == 0, "\(explainedLocally.stderr)")
        written.append(("keel explain's output", explainedLocally.stdout))

        // The snapshot, exported: no dropped column, pseudonyms for the customer, ages in bands.
        let datasets = try Self.keel(["datasets", "list", "--json"], in: dir)
        let fingerprint = try #require((try JSONSerialization.jsonObject(with: Data(datasets.stdout.utf8)) as? [[String: Any]])?.first?["fingerprint"] as? String)
        let export = try Self.keel(["datasets", "export", String(fingerprint.prefix(12)), "--out", "export.csv"], in: dir)
        #expect(export.status == 0, "\(export.stderr)")
        let exported = try CSVReader.read(path: dir.appendingPathComponent("export.csv").path, options: { var o = CSVOptions(); o.stringColumns = ["customer"]; return o }())
        #expect(exported.columnNames == ["customer", "age", "born", "plan", "spend", "y"], "\(exported.columnNames)")
        #expect((0..<exported.rowCount).allSatisfy { exported["born"]!.displayValue(at: $0)?.hasSuffix("-01") == true }, "dates to their month")
        let tokens = (0..<exported.rowCount).compactMap { exported["customer"]!.displayValue(at: $0) }
        #expect(tokens.count == 240 && Set(tokens).count == 240 && tokens.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
        guard case .numeric(let ages) = exported["age"]?.values else { Issue.record("age is not numeric"); return }
        #expect(ages.allSatisfy { $0.truncatingRemainder(dividingBy: 10) == 0 }, "ages are bands of 10")

        // Every file under the folder (registry, snapshots decoded, model, reports, outputs) and the responses.
        for file in Self.files(under: dir) where !["people.csv"].contains(file.lastPathComponent) {
            if file.deletingLastPathComponent().lastPathComponent == "snapshots" {
                let frame = try FrameSnapshot.read(from: file.path)
                let values = frame.columns.flatMap { column in (0..<frame.rowCount).compactMap { column.displayValue(at: $0) } }
                written.append(("snapshot \(file.lastPathComponent) (decoded)", values.joined(separator: "\n") + frame.columnNames.joined(separator: ",")))
            }
            written.append((file.path.replacingOccurrences(of: dir.path, with: ""), String(decoding: try Data(contentsOf: file), as: UTF8.self)))
        }
        #expect(written.filter { $0.0.hasPrefix("snapshot ") }.count == 2, "the dataset and its holdout, decoded")
        #expect(written.contains { $0.0.hasSuffix("report/report.md") })
        for (name, text) in written {
            if let leaked = planted.first(where: { text.contains($0) }) { Issue.record("\(name) holds the planted value \(leaked)") }
        }
    }

    @Test func badPoliciesAreClearErrorsAndWriteNothing() throws {
        let (dir, _, _) = try Self.workspace(rows: 80)
        let short = dir.appendingPathComponent("short.key").path
        try Data(repeating: 7, count: 12).base64EncodedString().write(toFile: short, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--privacy", "nope=drop"], "names column 'nope', which is not in the data"),
            (["--privacy", "email=keep"], "keeping 'email' needs --allow-pii email"),
            (["--privacy", "customer=pseudonymise"], "--pii-key-file"),
            (["--privacy", "customer=pseudonymise", "--pii-key-file", "missing.key"], "missing.key"),
            (["--privacy", "customer=pseudonymise", "--pii-key-file", short], "must hold at least 32"),
            (["--privacy", "y=generalise"], "'y' is the target"),
            (["--privacy", "age=generalise:month"], "age: generalise:month does not fit a numeric column"),
            (["--privacy", "email=generalise"], "does not fit e-mail addresses"),
            (["--privacy", "email=blur"], "'blur' is not a privacy rule"),
            (["--privacy", "email"], "--privacy takes COLUMN=RULE"),
            (["--allow-pii", "email", "--privacy", "email=drop"], "--allow-pii email keeps the column"),
            (["--allow-pii", "email", "--no-registry"], "audit log"),
        ]
        for (flags, message) in cases {
            let run = try Self.keel(["train", "people.csv", "--target", "y", "--trials", "1", "--learner", "linear", "--out", "m.keel"] + flags, in: dir,
                                          environment: ["KEEL_PII_KEY": ""])
            #expect(run.status != 0, "\(flags)")
            #expect(run.stderr.contains(message), "\(flags): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.keel").path), "\(flags): nothing written")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".keel/snapshots").path) || Self.files(under: dir.appendingPathComponent(".keel/snapshots")).isEmpty,
                    "\(flags): no snapshot")
        }
        // A schema file's rule is checked the same way, naming where it came from.
        try "privacy:\n  ghost: drop\ncolumns: []\n".write(to: dir.appendingPathComponent("schema.yaml"), atomically: true, encoding: .utf8)
        let fromFile = try Self.keel(["train", "people.csv", "--target", "y", "--trials", "1", "--schema", "schema.yaml", "--out", "m.keel"], in: dir)
        #expect(fromFile.status != 0 && fromFile.stderr.contains("the schema file's privacy key") && fromFile.stderr.contains("'ghost'"), "\(fromFile.stderr)")
    }

    @Test func keepingADirectIdentifierIsAuditedAndScoringNeedsTheSameKey() throws {
        let (dir, planted, key) = try Self.workspace(rows: 120)
        let kept = try Self.keel(["train", "people.csv", "--target", "y", "--trials", "1", "--learner", "linear", "--out", "kept.keel", "--allow-pii", "email"], in: dir)
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stderr.contains("privacy: keeping 'email' (e-mail addresses, direct identifier) as it is"), "\(kept.stderr)")
        let audit = try Self.keel(["audit", "export", "--format", "jsonl"], in: dir)
        #expect(audit.status == 0 && audit.stdout.contains("privacy.keep") && audit.stdout.contains("--allow-pii email"), "\(audit.stdout)")
        // The kept column is in the snapshot as it was (that is what keeping means).
        let export = try Self.keel(["datasets", "export", String(try #require(Self.fingerprints(dir).first).prefix(12)), "--out", "kept.csv"], in: dir)
        let keptText = (try? String(contentsOf: dir.appendingPathComponent("kept.csv"), encoding: .utf8)) ?? ""
        #expect(export.status == 0 && keptText.contains(planted[1]), "\(export.stderr)")

        // Two versions under different rules are not scored on one holdout.
        let pseudonymised = try Self.keel(["train", "people.csv", "--target", "y", "--trials", "1", "--learner", "linear", "--out", "v2.keel",
                                           "--privacy", "customer=pseudonymise", "--pii-key-file", key], in: dir)
        #expect(pseudonymised.status == 0, "\(pseudonymised.stderr)")
        let compared = try Self.keel(["models", "compare", "people@1", "people@2"], in: dir)
        #expect(compared.status != 0 && compared.stderr.contains("apply different privacy rules"), "\(compared.stdout) \(compared.stderr)")

        // Pseudonyms made under one key are refused under another, by predict and by serve.
        let trained = try Self.keel(["train", "people.csv", "--target", "y", "--trials", "1", "--learner", "linear", "--out", "p.keel", "--no-registry",
                                           "--privacy", "customer=pseudonymise", "--pii-key-file", key], in: dir)
        #expect(trained.status == 0, "\(trained.stderr)")
        let other = dir.appendingPathComponent("other.key").path
        try Data(repeating: 9, count: 32).base64EncodedString().write(toFile: other, atomically: true, encoding: .utf8)
        let wrongKey = try Self.keel(["predict", "p.keel", "people.csv", "--pii-key-file", other], in: dir)
        #expect(wrongKey.status != 0 && wrongKey.stderr.contains("is not the key"), "\(wrongKey.stderr)")
        let base64 = try String(contentsOfFile: key, encoding: .utf8)
        let fromEnvironment = try Self.keel(["predict", "p.keel", "people.csv"], in: dir, environment: ["KEEL_PII_KEY": base64])
        #expect(fromEnvironment.status == 0, "KEEL_PII_KEY gives the key too: \(fromEnvironment.stderr)")
        do {
            let server = try ServerProcess(["p.keel", "--keys-file", dir.appendingPathComponent("none.json").path], in: dir)
            server.stop()
            Issue.record("a server without the key started")
        } catch {
            #expect("\(error)".contains("--pii-key-file") && "\(error)".contains("pii_key_file"), "\(error)")
        }
    }

    @Test func inspectWritesTheRulesAndASchemaFileOrAConfigGivesThem() throws {
        let (dir, planted, key) = try Self.workspace(rows: 100)
        let inspect = try Self.keel(["inspect", "people.csv", "--target", "y", "--privacy", "age=generalise:5", "--write-schema", "schema.yaml", "--json"], in: dir)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let profile = try #require(document["profile"] as? [[String: Any]])
        #expect(profile.first { $0["name"] as? String == "email" }?["privacy"] as? String == "drop")
        #expect(profile.first { $0["name"] as? String == "age" }?["privacy"] as? String == "generalise:5")
        let written = try String(contentsOf: dir.appendingPathComponent("schema.yaml"), encoding: .utf8)
        #expect(written.contains("privacy:") && written.contains("email: drop") && written.contains("age: generalise:5"), "\(written)")
        // The written schema gives the same rules back to training.
        let fromSchema = try Self.keel(["train", "people.csv", "--schema", "schema.yaml", "--trials", "1", "--learner", "linear", "--out", "s.keel", "--no-registry"], in: dir)
        #expect(fromSchema.status == 0 && fromSchema.stderr.contains("into bands of 5 (generalise:5)") && fromSchema.stderr.contains("dropping 'ssn'"), "\(fromSchema.stderr)")
        // --allow-pii keeps a column the written file drops by default (an allowance, not a contradiction).
        let allowed = try Self.keel(["train", "people.csv", "--schema", "schema.yaml", "--trials", "1", "--learner", "linear", "--out", "a.keel", "--allow-pii", "email"], in: dir)
        #expect(allowed.status == 0 && allowed.stderr.contains("keeping 'email'"), "\(allowed.stderr)")
        // A training config's privacy keys, with the key file named there.
        try "privacy: {customer: pseudonymise, phone: drop}\npii_key_file: \(key)\n".write(to: dir.appendingPathComponent("train.yaml"), atomically: true, encoding: .utf8)
        let fromConfig = try Self.keel(["train", "people.csv", "--target", "y", "--config", "train.yaml", "--trials", "1", "--learner", "linear", "--out", "c.keel", "--no-registry"], in: dir)
        #expect(fromConfig.status == 0 && fromConfig.stderr.contains("pseudonymising 'customer'"), "\(fromConfig.stderr)")
        let model = try String(decoding: Data(contentsOf: dir.appendingPathComponent("c.keel")), as: UTF8.self)
        #expect(!planted.contains { model.contains($0) } && model.contains("pseudonymKeyCheck"))
    }

    /// `keel` in `dir` with the registry `dir/.keel` (where `keel serve` started there looks too).
    static func keel(_ arguments: [String], in dir: URL, environment: [String: String] = [:]) throws -> KeelProcess.Result {
        try KeelProcess.run(arguments, in: dir, environment: ["KEEL_HOME": dir.appendingPathComponent(".keel").path].merging(environment) { $1 })
    }

    static func fingerprints(_ dir: URL) throws -> [String] {
        let datasets = try Self.keel(["datasets", "list", "--json"], in: dir)
        return ((try JSONSerialization.jsonObject(with: Data(datasets.stdout.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["fingerprint"] as? String }
    }
}
