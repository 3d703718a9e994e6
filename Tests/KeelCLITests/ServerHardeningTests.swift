import Foundation
import KeelArtifact
import Synchronization
import Testing
@testable import KeelServer
import KeelRegistry
import KeelTestSupport

/// `keel serve` as a hostile or careless client meets it: authorization decided by the matched route for
/// every route and role, HTTP semantics (405, HEAD, 415), errors that never echo a long value, client
/// errors that cannot flood the log, hang-ups that are not server errors, and explanations that neither
/// run unbounded nor slow predictions down.
@Suite("Server hardening", .serialized)
struct ServerHardeningTests {
    static let setup = ServedModels.setup

    /// The role each route needs, written out here as a second statement of `Routes.all`: a route added
    /// without its line in this table fails `everyRouteAnswersEveryRoleAsTheTableSays`.
    static let expected: [String: Access] = [
        "GET /healthz": .open, "GET /readyz": .open,
        "POST /v1/predict": .predict, "POST /v1/explain": .predict, "POST /v1/feedback": .predict,
        "POST /v1/models/{name}/predict": .predict, "POST /v1/models/{name}/explain": .predict,
        "GET /v1/model": .admin, "GET /v1/models": .admin, "GET /v1/models/{name}": .admin, "POST /v1/admin/reload": .admin,
        "GET /metrics": .metrics, "GET /openapi.json": .anyKey, "GET /docs": .anyKey,
        "GET /v1/review": .review, "POST /v1/review/{id}": .review,
    ]

    struct Keys {
        var predict: String
        var metrics: String
        var reviewer: String
        var admin: String
        var file: String
    }

    static func makeKeys() throws -> Keys {
        let file = setup.folder.appendingPathComponent("keys-\(UUID().uuidString).json").path
        func create(_ role: String) throws -> String {
            let result = try KeelProcess.run(["keys", "create", "--role", role, "--name", role, "--keys-file", file])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return Keys(predict: try create("predict"), metrics: try create("metrics"), reviewer: try create("reviewer"), admin: try create("admin"), file: file)
    }

    static func bearer(_ secret: String?) -> [String: String] { secret.map { ["Authorization": "Bearer \($0)"] } ?? [:] }

    /// Whether a caller with `role` (nil: no key) passes the route's access, with metrics behind a key.
    static func allowed(_ access: Access, _ role: String?) -> Bool {
        switch access {
        case .open: true
        case .anyKey: role != nil
        case .predict: role == "predict" || role == "admin"
        case .metrics: role == "metrics" || role == "admin"
        case .review: role == "reviewer" || role == "admin"
        case .admin: role == "admin"
        }
    }

    @Test func everyRouteAnswersEveryRoleAsTheTableSays() throws {
        #expect(Set(Routes.all.map { "\($0.method.rawValue) \($0.path)" }) == Set(Self.expected.keys), "every route has a line in the expected table")
        for route in Routes.all { #expect(Self.expected["\(route.method.rawValue) \(route.path)"] == route.access, "\(route.path)") }
        let keys = try Self.makeKeys()
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", keys.file, "--metrics-auth", "key"])
        defer { server.stop() }
        let client = server.client
        let row = try ServerTests.oneRow()
        for (line, access) in Self.expected.sorted(by: { $0.key < $1.key }) {
            let parts = line.split(separator: " ")
            let method = String(parts[0])
            let path = String(parts[1]).replacingOccurrences(of: "{name}", with: "churn").replacingOccurrences(of: "{id}", with: "1")
            for (role, secret) in [(nil, nil), ("predict", keys.predict), ("metrics", keys.metrics), ("reviewer", keys.reviewer), ("admin", keys.admin)] as [(String?, String?)] {
                let body = method == "POST" && path != "/v1/admin/reload" ? Array(row.utf8) : []
                let response = try client.send(method, path, body: body, headers: Self.bearer(secret))
                if Self.allowed(access, role) {
                    #expect(response.status != 401 && response.status != 403, "\(line) as \(role ?? "nobody"): \(response.status) \(response.body)")
                } else {
                    #expect(response.status == (role == nil ? 401 : 403), "\(line) as \(role ?? "nobody"): \(response.status) \(response.body)")
                }
            }
        }
        // A path no route has: the same 404 for every caller, naming no model.
        for secret in [nil, keys.predict, keys.admin] {
            let response = try client.get("/v1/nothing/here", headers: Self.bearer(secret))
            #expect(response.status == 404 && !response.body.contains("churn"), "\(response.body)")
        }
    }

    @Test func modelNamesThatAreRouteWordsGetNoMoreThanTheirRoute() throws {
        let registry = Self.setup.folder.appendingPathComponent("registry-\(UUID().uuidString)").path
        for name in ["predict", "explain", "model", "admin"] {
            let trained = try KeelProcess.run(["train", Self.setup.data, "--target", "churned", "--trials", "1", "--learner", "linear", "--name", name,
                                               "--registry", registry, "--out", Self.setup.folder.appendingPathComponent("\(name).keel").path, "--quiet"])
            #expect(trained.status == 0, "\(trained.stderr)")
            let promoted = try KeelProcess.run(["models", "promote", name, "1", "--to", "production", "--registry", registry])
            #expect(promoted.status == 0, "\(promoted.stderr)")
        }
        let keys = try Self.makeKeys()
        let server = try ServerProcess(["--registry", "--registry-path", registry, "--keys-file", keys.file, "--allow-unsigned"])
        defer { server.stop() }
        let client = server.client
        let row = try ServerTests.oneRow()
        for name in ["predict", "explain", "model", "admin"] {
            // The manifest route is admin-only, whatever the model is called.
            let manifest = try client.get("/v1/models/\(name)", headers: Self.bearer(keys.predict))
            #expect(manifest.status == 403 && !manifest.body.contains("manifest"), "\(name): \(manifest.status) \(manifest.body)")
            #expect(try client.get("/v1/models/\(name)", headers: Self.bearer(keys.admin)).status == 200)
            #expect(try client.post("/v1/models/\(name)/predict", row, headers: Self.bearer(keys.predict)).status == 200)
        }
        // The document and the page work with several models, each written out with its own row schema.
        let document = try #require(try client.get("/openapi.json", headers: Self.bearer(keys.predict)).json)
        let paths = try #require(document["paths"] as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        for name in ["predict", "explain", "model", "admin"] {
            #expect(paths["/v1/models/\(name)/predict"] != nil && schemas["\(name).Row"] != nil, "\(name)")
        }
        let page = try client.get("/docs", headers: Self.bearer(keys.predict))
        #expect(page.status == 200 && page.body.contains("/v1/models/admin/explain") && page.body.contains("Row fields of admin"))
        #expect(try client.get("/docs").status == 401)
        // An unknown model: 404 without the list of served ones.
        let unknown = try client.post("/v1/models/nobody/predict", row, headers: Self.bearer(keys.predict))
        #expect(unknown.status == 404 && !unknown.body.contains("explain") && !unknown.body.contains("admin"), "\(unknown.body)")
    }

    @Test func httpSemanticsAndErrorsThatNeverEchoALongValue() throws {
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        let client = server.client
        let row = try ServerTests.oneRow()
        let trace = try client.send("TRACE", "/v1/predict")
        #expect(trace.status == 405 && trace.headers["allow"] == "POST" && trace.errorCode == "method_not_allowed", "\(trace.status) \(trace.headers)")
        let put = try client.send("PUT", "/healthz")
        #expect(put.status == 405 && put.headers["allow"] == "GET, HEAD")
        let head = try client.head("/healthz")
        #expect(head.status == 200 && head.extra == 0, "\(head)")
        let plain = try client.send("POST", "/v1/predict", body: Array(row.utf8), headers: ["Content-Type": "text/plain"])
        #expect(plain.status == 415 && plain.errorCode == "unsupported_media_type", "\(plain.status) \(plain.body)")
        #expect(try client.post("/v1/predict", row, headers: ["Content-Type": "application/json; charset=utf-8"]).status == 200)
        let badTopK = try client.post("/v1/explain?top_k=abc", row)
        #expect(badTopK.status == 422 && badTopK.errorField == "top_k")
        let longKey = String(repeating: "k", count: 500_000)
        let echoed = try client.post("/v1/predict", "{\"\(longKey)\": 1}")
        #expect(echoed.status == 413 || echoed.status == 422)
        #expect(echoed.body.count < 2_000, "the error echoed \(echoed.body.count) bytes")
        let small = String(repeating: "k", count: 5_000)
        let unknown = try client.post("/v1/predict", "{\"\(small)\": 1}")
        #expect(unknown.status == 422 && unknown.body.count < 1_000 && unknown.body.contains("more characters"), "\(unknown.body.count)")
        #expect(try client.get("/healthz").status == 200)
    }

    @Test func malformedRequestsGetTheJSONErrorWithTheRightStatusAndField() throws {
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        let client = server.client
        let row = try ServerTests.oneRow()
        let schema = try Artifact.read(from: Self.setup.boosted).manifest.schema
        let feature = try #require(schema.columns.first { $0.role == .feature && $0.kind == .categorical }).name
        // A syntax error after a value is not blamed on that value's key; inside a batch it is in "rows".
        let afterValue = try client.post("/v1/predict", "{\"\(feature)\": \"x\" oops}")
        #expect(afterValue.status == 400 && afterValue.errorCode == "invalid_json" && afterValue.errorField == nil, "\(afterValue.body)")
        let afterComma = try client.post("/v1/predict", "{\"\(feature)\": \"x\", oops}")
        #expect(afterComma.status == 400 && afterComma.errorField == nil, "\(afterComma.body)")
        let inBatch = try client.post("/v1/predict", "{\"rows\": [{\"\(feature)\": \"x\" oops}]}")
        #expect(inBatch.status == 400 && inBatch.errorField == "rows", "\(inBatch.body)")
        let inValue = try client.post("/v1/predict", "{\"\(feature)\": tru}")
        #expect(inValue.status == 400 && inValue.errorField == feature, "\(inValue.body)")
        // Request headers over the decoder's limit: 431 with the JSON error, not a bare 400; a request line
        // that is not HTTP: 400 with the JSON error.
        for head in ["GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: \(String(repeating: "a", count: 100_000))\r\n\r\n",
                     "GET /healthz HTTP/1.1\r\nHost: x\r\n" + (0..<1_200).map { "X-\($0): a\r\n" }.joined() + "\r\n"] {
            let response = try client.raw(Array(head.utf8))
            #expect(response.status == 431 && response.errorCode == "headers_too_large", "\(response.status) \(response.body)")
            #expect(response.headers["content-type"] == "application/json" && response.headers["connection"] == "close")
        }
        let garbage = try client.raw(Array("NOT HTTP AT ALL\r\n\r\n".utf8))
        #expect(garbage.status == 400 && garbage.errorCode == "bad_request", "\(garbage.status) \(garbage.body)")
        // The id column takes a scalar, never an object or array; a reload of a file that is not there is 404.
        let id = try #require(schema.columns.first { $0.role == .id }).name
        var object = try #require(try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any])
        object[id] = [1]
        let nested = try client.post("/v1/predict", String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        #expect(nested.status == 422 && nested.errorCode == "wrong_type" && nested.errorField == id, "\(nested.body)")
        let missing = try client.post("/v1/admin/reload", "{\"model\": \"no-such-file.keel\"}")
        #expect(missing.status == 404 && missing.errorCode == "model_file_not_found" && missing.errorField == "model", "\(missing.body)")
        #expect(try client.post("/v1/predict", row).status == 200)
        #expect(try client.get("/metrics").body.contains(#"keel_http_requests_total{route="unmatched",status="431"} 2"#))
    }

    @Test func clientErrorsAreSampledInTheLogAndHangUpsAreNotServerErrors() throws {
        let keys = try Self.makeKeys()
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", keys.file])
        defer { server.stop() }
        let client = server.client
        let row = try ServerTests.oneRow()
        for _ in 0..<300 { _ = try client.post("/v1/predict", row) }
        let lines = server.stderr.split(separator: "\n").filter { $0.contains("status=401") }
        #expect(lines.count <= 2, "300 refused requests made \(lines.count) log lines")
        // A client that promises a body and hangs up halfway.
        for _ in 0..<3 {
            let head = "POST /v1/predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(keys.predict)\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"a\":"
            let socket = try client.stall(sending: Array(head.utf8))
            Thread.sleep(forTimeInterval: 0.1)
            close(socket)
        }
        Thread.sleep(forTimeInterval: 0.5)
        let metrics = try client.get("/metrics").body
        #expect(!metrics.contains("status=\"500\""), "\(metrics)")
        #expect(metrics.contains("keel_http_client_aborts_total 3"), "\(metrics)")
        #expect(!server.stderr.contains("level=error"), "\(server.stderr)")
        #expect(try client.post("/v1/predict", row, headers: Self.bearer(keys.predict)).status == 200)
    }

    @Test func explanationsHaveTheirOwnRowAndTimeLimits() throws {
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path,
                                        "--max-explain-rows", "5"])
        defer { server.stop() }
        let client = server.client
        let rows = try ServedModels.jsonRows(csv: Self.setup.data, model: Self.setup.boosted)
        let five = try client.post("/v1/explain", "{\"rows\":[\(rows.prefix(5).joined(separator: ","))]}")
        #expect(five.status == 200)
        let six = try client.post("/v1/explain", "{\"rows\":[\(rows.prefix(6).joined(separator: ","))]}")
        #expect(six.status == 422 && six.errorCode == "too_many_rows" && six.body.contains("--max-explain-rows"), "\(six.body)")
        // Six rows still predict: the explanation limit is its own.
        #expect(try client.post("/v1/predict", "{\"rows\":[\(rows.prefix(6).joined(separator: ","))]}").status == 200)

        let slow = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path,
                                      "--explain-timeout", "0.000001"])
        defer { slow.stop() }
        let timedOut = try slow.client.post("/v1/explain", "{\"rows\":[\(rows.prefix(40).joined(separator: ","))]}")
        #expect(timedOut.status == 503 && timedOut.errorCode == "explanation_timeout", "\(timedOut.body)")
        #expect(try slow.client.get("/metrics").body.contains(#"keel_explanations_total{result="timeout"} 1"#))
    }

    /// An explanation in progress stops at its next chunk when the server shuts down, and a pool that is
    /// shutting down refuses new ones: SIGTERM never waits for a long explanation.
    @Test func shutdownStopsARunningExplanationAtItsNextCheck() async throws {
        var limits = ExplanationLimits()
        limits.workers = 1
        limits.timeLimitSeconds = 60
        let pool = ExplanationPool(limits)
        // Counted in the work itself: how long the awaiting task takes to resume depends on the test run's
        // cooperative threads (another suite's synchronous fit can hold both for a minute), the checks do not.
        let checks = Mutex<(done: Int, atStop: Int?)>((0, nil))
        let task = Task {
            try await pool.run { check in
                for _ in 0..<6_000 {
                    try check()
                    checks.withLock { $0.done += 1 }
                    Thread.sleep(forTimeInterval: 0.01)
                }
                return 0
            }
        }
        while checks.withLock({ $0.done }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        checks.withLock { $0.atStop = $0.done }
        pool.shutDown()
        await #expect(throws: ExplanationPool.Stop.shuttingDown) { try await task.value }
        // Run to its end it would pass 6,000 checks; stopped, it ends at the first check after the shutdown
        // (one more may pass if it was under way as the pool stopped).
        let (done, atStop) = checks.withLock { ($0.done, $0.atStop ?? 0) }
        #expect(done - atStop <= 1, "the explanation stopped at its next check, not at its end (\(done - atStop) checks passed after the shutdown)")
        await #expect(throws: APIError.self) { try await pool.run { _ in 1 } }
        #expect(pool.inFlight == 0)
    }

    /// A client that sends a large explanation and hangs up, gracefully or not: the explanation stops at its
    /// next chunk (the connection is checked between chunks), counted as cancelled, not run to its end.
    @Test func anExplanationStopsWhenItsClientHangsUp() throws {
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path,
                                        "--max-explain-rows", "1000", "--explain-timeout", "60"])
        defer { server.stop() }
        let rows = try ServedModels.jsonRows(csv: Self.setup.data, model: Self.setup.boosted)
        let body = Array(("{\"rows\":[" + (0..<1000).map { rows[$0 % rows.count] }.joined(separator: ",") + "]}").utf8)
        let head = Array("POST /v1/explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        // A graceful close (FIN), as curl interrupted or a client giving up sends, then an abortive one (RST).
        for abortive in [false, true] {
            let socket = try server.client.stall(sending: head + body)
            Thread.sleep(forTimeInterval: 0.1)
            if abortive {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            close(socket)
            try awaitCancelled(server, count: abortive ? 2 : 1)
        }
    }

    private func awaitCancelled(_ server: ServerProcess, count: Int) throws {
        let deadline = Date().addingTimeInterval(20)
        var metrics = ""
        while Date() < deadline {
            metrics = try server.client.get("/metrics").body
            if metrics.contains("keel_explanations_total{result=\"cancelled\"} \(count)") || metrics.contains("keel_explanations_total{result=\"ok\"}") { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(metrics.contains("keel_explanations_total{result=\"cancelled\"} \(count)"), "\(metrics)")
        #expect(!metrics.contains("status=\"500\""))
    }
}

final class StatusLog: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int] = []
    func add(_ status: Int) { lock.lock(); statuses.append(status); lock.unlock() }
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return statuses }
}
