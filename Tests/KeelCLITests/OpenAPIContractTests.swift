import Foundation
import KeelData
import Testing
@testable import KeelServer
import KeelTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The OpenAPI document is the contract and the server keeps it: the document has every route of the
/// router and no other, its date pattern is the parser's grammar, and schemathesis, run against a live
/// `keel serve` with every check on, finds nothing (no 5xx, every status, header, content type and body as
/// documented, schema-valid requests accepted, schema-violating ones refused, 405 with `Allow` for other
/// methods, keys enforced where the document says).
@Suite("OpenAPI contract", .serialized)
struct OpenAPIContractTests {
    static let setup = ServedModels.setup

    /// (path as `Routes.all` spells it, METHOD) of every operation in `document`; a path written out for one
    /// model counts as the route its `x-keel-route` names.
    static func operations(_ document: [String: Any]) throws -> Set<String> {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var found: Set<String> = []
        for (path, item) in paths {
            for (method, operation) in item {
                let route = (operation as? [String: Any])?["x-keel-route"] as? String ?? path
                found.insert("\(method.uppercased()) \(route)")
            }
        }
        return found
    }

    @Test func theDocumentHasEveryRouteOfTheRouterAndNoOther() throws {
        let routes = Set(Routes.all.map { "\($0.method.rawValue) \($0.path)" })
        let boosted = try LoadedModel(path: Self.setup.boosted, options: .init(), limits: ServerLimits())
        let linear = try LoadedModel(path: Self.setup.linear, options: .init(), limits: ServerLimits(), identity: ("other", "1"))
        let documents = [
            OpenAPIDocument(models: [boosted], registry: false, limits: ServerLimits(), keysInForce: true),
            OpenAPIDocument(models: [boosted], registry: false, limits: ServerLimits(), keysInForce: false, feedbackEnabled: true),
            OpenAPIDocument(models: [boosted, linear], registry: true, limits: ServerLimits(), keysInForce: true, metricsNeedKey: true),
            OpenAPIDocument(models: [], registry: true, limits: ServerLimits(), keysInForce: true),
        ]
        for generator in documents {
            let document = try #require(try JSONSerialization.jsonObject(with: Data(generator.render().utf8)) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            #expect(try Self.operations(document) == routes, "models: \(generator.models.map(\.name))")
            let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
            // With several models, each {name} route is also written out per model, with that model's schemas.
            let written = Set(paths.keys.filter { !$0.contains("{") && !routes.contains("GET \($0)") && !routes.contains("POST \($0)") })
            let expected = generator.models.count > 1
                ? Set(generator.models.flatMap { model in ["/v1/models/\(model.name)", "/v1/models/\(model.name)/predict", "/v1/models/\(model.name)/explain"] })
                : []
            #expect(written == expected)
            var ids: Set<String> = []
            for (path, item) in paths {
                for (method, operation) in item {
                    let route = try #require(Routes.all.first { $0.method.rawValue == method.uppercased() && $0.matches(path) })
                    #expect(operation["summary"] as? String == route.summary)
                    #expect(ids.insert(operation["operationId"] as? String ?? "").inserted, "\(path): operationId")
                    let responses = try #require(operation["responses"] as? [String: Any])
                    #expect(responses["200"] != nil && responses["431"] != nil && responses["500"] != nil, "\(method) \(path)")
                    let secured = !((operation["security"] as? [Any]) ?? []).isEmpty
                    let mustBeSecured = generator.keysInForce && route.access != .open && (route.access != .metrics || generator.metricsNeedKey)
                    #expect(secured == mustBeSecured, "\(method) \(path)")
                    #expect((responses["401"] != nil) == secured, "\(method) \(path)")
                    #expect((responses["403"] != nil) == (secured && route.access != .anyKey), "\(method) \(path)")
                    let description = operation["description"] as? String ?? ""
                    #expect(!generator.keysInForce || description.contains("key") || description.contains("Open"), "\(path): \(description)")
                }
            }
        }
        // The parts a client programs against, on the one-model document.
        let document = try #require(try JSONSerialization.jsonObject(with: Data(documents[0].render().utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        let explain = try #require(paths["/v1/explain"]?["post"])
        let topK = try #require((explain["parameters"] as? [[String: Any]])?.first { $0["name"] as? String == "top_k" })
        let topKSchema = try #require(topK["schema"] as? [String: Any])
        #expect(topKSchema["type"] as? String == "integer" && topKSchema["minimum"] as? Int == 1 && topKSchema["maximum"] as? Int == 50)
        let named = try #require(paths["/v1/models/{name}/predict"]?["post"])
        let name = try #require((named["parameters"] as? [[String: Any]])?.first { $0["in"] as? String == "path" })
        #expect((name["schema"] as? [String: Any])?["enum"] as? [String] == ["churn"])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        let batch = try #require(((schemas["PredictRequest"]?["oneOf"] as? [[String: Any]])?.last?["properties"] as? [String: Any])?["rows"] as? [String: Any])
        #expect(batch["minItems"] as? Int == 1 && batch["maxItems"] as? Int == ServerLimits().maxRows)
        let explainBatch = try #require(((schemas["ExplainRequest"]?["oneOf"] as? [[String: Any]])?.last?["properties"] as? [String: Any])?["rows"] as? [String: Any])
        #expect(explainBatch["maxItems"] as? Int == ExplanationLimits().maxRows)
        let unprocessable = try #require((paths["/v1/predict"]?["post"]?["responses"] as? [String: Any])?["422"] as? [String: Any])
        #expect((unprocessable["description"] as? String ?? "").contains("too_many_rows"))
    }

    /// The document's date pattern and `DateTimeParser` agree on dates, date-times and near misses: the
    /// pattern is the parser's grammar, calendar included (30 April, 29 February in leap years only).
    @Test func theDatePatternAcceptsWhatTheParserAccepts() throws {
        let pattern = try NSRegularExpression(pattern: DatePattern.accepted)
        var random = SeededGenerator(seed: 7)
        func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + random.next(below: range.count) }
        func two(_ range: ClosedRange<Int>) -> String { String(format: "%02d", pick(range)) }
        var checked = 0
        for _ in 0..<20_000 {
            let year = ["2024", "2023", "1900", "2000", "2100", "0000", "1999"][pick(0...6)]
            let (month, day) = (two(0...13), two(0...32))
            var text = switch pick(0...2) {
            case 0: "\(year)-\(month)-\(day)"
            case 1: "\(year)/\(month)/\(day)"
            default: "\(day).\(month).\(year)"
            }
            if pick(0...1) == 1 {
                text += ["T", " ", "t", "_"][pick(0...3)] + two(0...25) + ":" + two(0...61)
                if pick(0...1) == 1 { text += ":" + two(0...61) + ["", ".5", ",25", ".", ".123456"][pick(0...4)] }
                text += ["", "Z", "z", "+05:30", "-0800", "+14", "+15", "-03:", "+05:60"][pick(0...8)]
            }
            let matched = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            #expect(matched == (DateTimeParser.parse(text) != nil), "\(text)")
            checked += 1
        }
        #expect(checked == 20_000)
    }

    @Test func schemathesisFindsNothingAgainstALiveServer() throws {
        try Schemathesis.ready.get()
        let folder = Self.setup.folder.appendingPathComponent("contract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let keys = folder.appendingPathComponent("keys.json").path
        let created = try KeelProcess.run(["keys", "create", "--role", "admin", "--name", "contract", "--keys-file", keys])
        #expect(created.status == 0, "\(created.stderr)")
        let admin = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Keys in force and /metrics behind one, so every operation's auth is probed; predictions logged, so
        // feedback runs its checks; a long explanation timeout, so a loaded machine cannot turn a valid
        // explanation into a 503. The server runs in an empty folder: a reload of a generated path finds nothing.
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", keys, "--metrics-auth", "key", "--log-predictions",
                                        "--registry-path", folder.appendingPathComponent("log").path, "--explain-timeout", "60s"], in: folder)
        defer { server.stop() }
        let (status, output) = try Schemathesis.run(url: "http://127.0.0.1:\(server.port)/openapi.json", bearer: admin, in: folder)
        // Kept for people to read: what ran, how many cases, what was found.
        let artifacts = Datasets.packageRoot.appendingPathComponent("test-artifacts")
        try? FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try? output.write(to: artifacts.appendingPathComponent("schemathesis.txt"), atomically: true, encoding: .utf8)
        #expect(status == 0, "schemathesis found discrepancies between the document and the server:\n\(output.suffix(20_000))")
        #expect(output.contains("Test cases:"), "\(output.suffix(5_000))")
        #expect(!server.stderr.contains("level=error"), "\(server.stderr.suffix(5_000))")
    }
}

/// schemathesis in its own virtual environment, `.venv-openapi/` at the package root (ignored by git),
/// installed by the test on first use at pinned versions (the whole dependency closure, so a new release
/// of anything cannot change the run), under a file lock so concurrent test processes install once.
enum Schemathesis {
    static let requirements = [
        "schemathesis==4.32.5", "anyio==4.16.0", "certifi==2026.10.19.post1", "charset-normalizer==3.5.3", "click==8.5.1",
        "graphql-core==3.3.2", "harfile==0.6.0", "hypothesis==6.170.17", "hypothesis-graphql==0.13.5", "idna==3.20",
        "iniconfig==2.3.1", "jsonschema_rs==0.60.3", "markdown-it-py==4.3.0", "MarkupSafe==3.0.4", "mdurl==0.1.2",
        "packaging==26.4", "pluggy==1.7.0", "Pygments==2.21.0", "pyrate-limiter==4.6.0", "pytest==9.2.0", "PyYAML==6.0.4",
        "requests==2.34.2", "rich==15.0.0", "sortedcontainers==2.4.0", "typing_extensions==4.16.0", "urllib3==2.8.0", "Werkzeug==3.1.9",
    ]
    static let version = "4.32.5"

    static var executable: String { Datasets.packageRoot.appendingPathComponent(".venv-openapi/bin/schemathesis").path }

    static let ready = PythonEnvironment.make(".venv-openapi", packages: requirements) { root in
        (try? PythonEnvironment.shell([root + "/bin/schemathesis", "--version"]))?.contains(version) == true
    }

    /// Every check on (the response-time check at 10 s), every phase (examples, coverage, fuzzing,
    /// stateful), one worker, a fixed seed (KEEL_SCHEMATHESIS_SEED picks another to explore) and a bounded
    /// number of cases per operation; killed after 4 minutes. Returns the exit status and everything printed.
    static func run(url: String, bearer: String, in folder: URL) throws -> (Int32, String) {
        let seed = ProcessInfo.processInfo.environment["KEEL_SCHEMATHESIS_SEED"] ?? "1"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "run", url, "--header", "Authorization: Bearer \(bearer)",
            "--checks", "all", "--max-response-time", "10",
            "--max-examples", "80", "--workers", "1", "--seed", seed,
            "--generation-database", "none", "--request-timeout", "30", "--no-color",
        ]
        // Hypothesis and schemathesis write nothing outside this folder.
        process.currentDirectoryURL = folder
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let collected = LogBuffer()
        let reading = DispatchGroup()
        reading.enter()
        Thread.detachNewThread {
            collected.append(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            reading.leave()
        }
        let deadline = Date().addingTimeInterval(240)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        let stopped = process.isRunning
        if stopped { process.terminate() }
        process.waitUntilExit()
        reading.wait()
        if stopped { return (-1, collected.text + "\n(stopped after 240 s)") }
        return (process.terminationStatus, collected.text)
    }
}
