import Foundation
import KeelArtifact
import KeelRegistry
import KeelTestSupport
import Synchronization
import Testing

/// `keel serve` end to end: a real process on a loopback port, real HTTP.
@Suite(.serialized) struct ServerTests {
    static let setup = ServedModels.setup

    static func oneRow() throws -> String {
        try ServedModels.jsonRows(csv: setup.data, model: setup.boosted)[0]
    }

    @Test func httpPredictionsEqualBatchPredictionsRowForRow() throws {
        let out = Self.setup.folder.appendingPathComponent("batch.csv").path
        let batch = try KeelProcess.run(["predict", Self.setup.boosted, Self.setup.data, "--out", out])
        #expect(batch.status == 0, "\(batch.stderr)")
        let expected = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        let rows = try ServedModels.jsonRows(csv: Self.setup.data, model: Self.setup.boosted)
        var got: [String] = []
        var start = 0
        while start < rows.count {
            let slice = rows[start..<min(start + 250, rows.count)]
            let response = try server.client.post("/v1/predict", "{\"rows\":[" + slice.joined(separator: ",") + "]}")
            #expect(response.status == 200, "\(response.body)")
            let json = try #require(response.json)
            let model = try #require(json["model"] as? [String: Any])
            #expect(model["name"] as? String == "churn", "the data file's stem names the model")
            #expect(!(json["request_id"] as? String ?? "").isEmpty)
            for item in try #require(json["predictions"] as? [[String: Any]]) {
                let label = try #require(item["prediction"] as? String)
                let probabilities = try #require(item["probabilities"] as? [String: Double])
                got.append("\(label),\(String(format: "%.6g", probabilities["no"]!)),\(String(format: "%.6g", probabilities["yes"]!))")
            }
            start += 250
        }
        // `keel predict` writes the id column first; the server returns predictions in request order.
        #expect(got == expected.map { $0.split(separator: ",", maxSplits: 1)[1].description })
        #expect(got.count == 600)
        // A single row (not wrapped in "rows") answers the same as in the batch.
        let single = try server.client.post("/v1/predict", rows[0])
        let first = try #require((single.json?["predictions"] as? [[String: Any]])?.first)
        #expect(first["prediction"] as? String == got[0].split(separator: ",")[0].description)
    }

    @Test func everyBadRequestGetsA4xxNamingTheFieldAndTheServerKeepsAnswering() throws {
        let server = try ServerProcess([Self.setup.boosted, "--max-body-bytes", "20000", "--max-rows", "5", "--max-string-length", "100",
                                        "--idle-timeout", "1s", "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        let client = server.client
        let row = try Self.oneRow()
        func with(_ field: String, _ value: String) -> String {
            String(row.dropLast()) + ",\"\(field)\":\(value)}"
        }
        func without(_ field: String) throws -> String {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any])
            object[field] = nil
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let schema = try Artifact.read(from: Self.setup.boosted).manifest.schema
        let required = try #require(schema.columns.first { $0.role == .feature && !$0.nullable && $0.kind == .categorical })
        let numeric = try #require(schema.columns.first { $0.role == .feature && $0.kind == .numeric })
        let replaced = { (value: String) in
            var object = try! JSONSerialization.jsonObject(with: Data(row.utf8)) as! [String: Any]
            object[numeric.name] = nil
            let rest = String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            return String(rest.dropLast()) + ",\"\(numeric.name)\":\(value)}"
        }
        let cases: [(String, String, Int, String, String?)] = [
            ("not JSON", "{oops", 400, "invalid_json", nil),
            ("not an object", "[1,2]", 400, "invalid_body", nil),
            ("empty body", "", 400, "invalid_body", nil),
            ("wrong type", replaced("\"abc\""), 422, "wrong_type", numeric.name),
            ("boolean for a number", replaced("true"), 422, "wrong_type", numeric.name),
            ("missing required field", try without(required.name), 422, "missing_field", required.name),
            ("unknown field", with("colour", "\"red\""), 422, "unknown_field", "colour"),
            ("NaN", replaced("NaN"), 422, "non_finite_number", numeric.name),
            ("Infinity", replaced("Infinity"), 422, "non_finite_number", numeric.name),
            ("-Infinity", replaced("-Infinity"), 422, "non_finite_number", numeric.name),
            ("overflowing number", replaced("1e999"), 422, "non_finite_number", numeric.name),
            ("over-long string", String(try without(required.name).dropLast()) + ",\"\(required.name)\":\"\(String(repeating: "x", count: 101))\"}", 422, "string_too_long", required.name),
            ("body over the size limit", "{\"rows\":[" + Array(repeating: row, count: 80).joined(separator: ",") + "]}", 413, "body_too_large", nil),
            ("too many rows", "{\"rows\":[" + Array(repeating: row, count: 6).joined(separator: ",") + "]}", 422, "too_many_rows", "rows"),
            ("empty batch", "{\"rows\":[]}", 422, "empty_batch", "rows"),
            ("a row that is not an object", "{\"rows\":[\(row),3]}", 422, "invalid_row", nil),
            ("deep nesting", String(repeating: "[", count: 100) + String(repeating: "]", count: 100), 400, "invalid_json", nil),
            ("duplicate field", with(required.name, "\"x\""), 422, "duplicate_field", required.name),
        ]
        for (name, body, status, code, field) in cases {
            let response = try client.post("/v1/predict", body)
            #expect(response.status == status, "\(name): \(response.status) \(response.body)")
            #expect(response.errorCode == code, "\(name): \(response.body)")
            if let field { #expect(response.errorField == field, "\(name): \(response.body)") }
            #expect(response.headers["content-type"] == "application/json", "\(name)")
        }
        // Batch errors name the row.
        let badBatch = try client.post("/v1/predict", "{\"rows\":[\(row),\(row),\(replaced("\"abc\""))]}")
        #expect(badBatch.status == 422 && badBatch.errorRow == 2 && badBatch.errorField == numeric.name, "\(badBatch.body)")
        // Invalid UTF-8 and a truncated body.
        let invalidUTF8 = try client.send("POST", "/v1/predict", body: Array("{\"plan\":\"".utf8) + [0xFF, 0xFE] + Array("\"}".utf8))
        #expect(invalidUTF8.status == 400 && invalidUTF8.errorCode == "invalid_json")
        // Fields with the id role are accepted; null for a nullable feature is missing, not an error.
        #expect(try client.post("/v1/predict", row).status == 200)
        // Null in a feature training never saw missing is a missing value too, as an empty cell is in
        // `keel predict`: scored, and warned (the field must still be present).
        let nullRequired = try client.post("/v1/predict", String(try without(required.name).dropLast()) + ",\"\(required.name)\":null}")
        #expect(nullRequired.status == 200 && nullRequired.body.contains("unexpected_missing") && nullRequired.body.contains(required.name), "\(nullRequired.body)")
        #expect(try client.post("/v1/predict", with("churned", "\"yes\"")).status == 200)
        // Unknown endpoints and methods: JSON 4xx too.
        let unknown = try client.get("/v2/nothing")
        #expect(unknown.status == 404 && unknown.errorCode == "not_found")
        #expect((400..<500).contains(try client.get("/v1/predict").status))
        // A client that stalls mid-body does not block others, and is cut off by the idle timeout.
        let stalled = try client.stall(sending: Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"plan\":".utf8))
        defer { close(stalled) }
        let started = Date()
        #expect(try client.post("/v1/predict", row).status == 200)
        #expect(Date().timeIntervalSince(started) < 1)
        Thread.sleep(forTimeInterval: 2.5)
        #expect(HTTPTestClient.isClosed(stalled))
        // After all of that, the server is healthy and still predicts.
        #expect(try client.get("/healthz").status == 200)
        #expect(try client.post("/v1/predict", row).status == 200)
        #expect(server.process.isRunning)
    }

    @Test func keysGateEveryEndpointButHealthByRoleAndNeverReachTheLog() throws {
        let keysFile = Self.setup.folder.appendingPathComponent("keys-\(UUID().uuidString).json").path
        let predictKey = try KeelProcess.run(["keys", "create", "--role", "predict", "--name", "app", "--keys-file", keysFile])
        let adminKey = try KeelProcess.run(["keys", "create", "--role", "admin", "--name", "ops", "--keys-file", keysFile])
        #expect(predictKey.status == 0 && adminKey.status == 0)
        let predictSecret = predictKey.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let adminSecret = adminKey.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(predictSecret.hasPrefix("keel_") && adminSecret.hasPrefix("keel_"))
        #expect(try !String(contentsOfFile: keysFile, encoding: .utf8).contains(predictSecret))
        let list = try KeelProcess.run(["keys", "list", "--keys-file", keysFile])
        #expect(list.stdout.contains("app") && list.stdout.contains("admin") && !list.stdout.contains(predictSecret))

        let server = try ServerProcess([Self.setup.boosted, "--keys-file", keysFile, "--log-level", "debug"])
        defer { server.stop() }
        let client = server.client
        let row = try Self.oneRow()
        func bearer(_ secret: String) -> [String: String] { ["Authorization": "Bearer \(secret)"] }
        let anonymous = try client.post("/v1/predict", row)
        #expect(anonymous.status == 401 && anonymous.errorCode == "unauthorized" && anonymous.headers["www-authenticate"] == "Bearer")
        #expect(try client.post("/v1/predict", row, headers: bearer("keel_wrong")).status == 401)
        #expect(try client.post("/v1/predict", row, headers: ["Authorization": "Basic abc"]).status == 401)
        #expect(try client.post("/v1/predict", row, headers: bearer(predictSecret)).status == 200)
        #expect(try client.post("/v1/predict", row, headers: bearer(adminSecret)).status == 200)
        #expect(try client.get("/v1/model").status == 401)
        let forbidden = try client.get("/v1/model", headers: bearer(predictSecret))
        #expect(forbidden.status == 403 && forbidden.errorCode == "forbidden")
        #expect(try client.get("/v1/model", headers: bearer(adminSecret)).status == 200)
        // The API's description needs a key of any role; metrics are open on loopback (server.metrics_auth).
        #expect(try client.get("/openapi.json").status == 401)
        #expect(try client.get("/openapi.json", headers: bearer(predictSecret)).status == 200)
        #expect(try client.get("/metrics").status == 200)
        // The scheme is case-insensitive (RFC 9110).
        #expect(try client.post("/v1/predict", row, headers: ["Authorization": "bearer \(predictSecret)"]).status == 200)
        #expect(try client.send("POST", "/v1/admin/reload", headers: bearer(predictSecret)).status == 403)
        #expect(try client.get("/healthz").status == 200)
        #expect(try client.get("/readyz").status == 200)
        // Every request was logged (debug level), none with a secret.
        let log = server.stderr
        #expect(log.contains("request_id="))
        #expect(!log.contains(predictSecret) && !log.contains(adminSecret) && !log.contains("keel_wrong"))
    }

    @Test func modelOpenAPIAndMetricsDescribeWhatTheServerDoes() throws {
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        let client = server.client
        let row = try Self.oneRow()
        for _ in 0..<3 { _ = try client.post("/v1/predict", row) }
        _ = try client.post("/v1/predict", "{")
        let model = try #require(try client.get("/v1/model").json)
        #expect(model["name"] as? String == "churn", "the data file's stem names the model")
        let manifest = try #require(model["manifest"] as? [String: Any])
        let schema = try #require(manifest["schema"] as? [String: Any])
        #expect(schema["target"] as? String == "churned")
        let expectedSchema = try Artifact.read(from: Self.setup.boosted).manifest.schema

        let document = try #require(try client.get("/openapi.json").json)
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        // Every route (OpenAPIContractTests checks the methods against Routes.all), feedback and models included.
        #expect(Set(paths.keys) == ["/v1/predict", "/v1/explain", "/v1/feedback", "/v1/model", "/v1/models", "/v1/models/{name}", "/v1/models/{name}/predict",
                                    "/v1/models/{name}/explain", "/v1/admin/reload", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
                                    "/v1/review", "/v1/review/{id}"])
        let rowSchema = try #require(((document["components"] as? [String: Any])?["schemas"] as? [String: Any])?["Row"] as? [String: Any])
        let properties = try #require(rowSchema["properties"] as? [String: Any])
        #expect(Set(properties.keys) == Set(expectedSchema.columns.map(\.name)))
        #expect(Set(rowSchema["required"] as? [String] ?? []) == Set(expectedSchema.columns.filter { $0.role == .feature && !$0.nullable }.map(\.name)))
        #expect(rowSchema["additionalProperties"] as? Bool == false)

        let metrics = try client.get("/metrics").body
        #expect(metrics.contains(#"keel_http_requests_total{route="/v1/predict",status="200"} 3"#), "\(metrics)")
        #expect(metrics.contains(#"keel_http_requests_total{route="/v1/predict",status="400"} 1"#))
        #expect(metrics.contains("keel_http_request_duration_seconds_bucket"))
        #expect(metrics.contains("keel_predictions_total{class="))
        #expect(metrics.contains("keel_prediction_confidence_count 3"))
    }

    @Test func fiftyModelSwapsUnderContinuousTrafficFailNoRequest() throws {
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        let client = server.client
        let row = try Self.oneRow()
        let versions = try [Self.setup.boosted, Self.setup.linear].map { String(try Artifact.read(from: $0).info.checksum.prefix(12)) }
        let stop = Atomic<Bool>(false)
        let failures = Mutex<[String]>([])
        let seen = Mutex<[String: Int]>([:])
        let threads = 3
        let done = DispatchGroup()
        for _ in 0..<threads {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                while !stop.load(ordering: .relaxed) {
                    do {
                        let response = try client.post("/v1/predict", row)
                        let version = (response.json?["model"] as? [String: Any])?["version"] as? String ?? "?"
                        if response.status != 200 || !versions.contains(version) {
                            failures.withLock { $0.append("\(response.status) \(response.body)") }
                        }
                        seen.withLock { $0[version, default: 0] += 1 }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        for swap in 0..<50 {
            let target = swap % 2 == 0 ? Self.setup.linear : Self.setup.boosted
            let response = try client.post("/v1/admin/reload", "{\"model\":\"\(target)\"}")
            #expect(response.status == 200, "\(response.body)")
            Thread.sleep(forTimeInterval: 0.03)
        }
        stop.store(true, ordering: .relaxed)
        done.wait()
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
        let counts = seen.withLock { $0 }
        #expect(counts.values.reduce(0, +) > 100, "\(counts)")
        #expect(Set(counts.keys) == Set(versions), "\(counts)")
        // A reload that fails leaves the running model in place: 404 for no file, 422 for a file that is no model.
        let absent = try client.post("/v1/admin/reload", "{\"model\":\"/nonexistent.keel\"}")
        #expect(absent.status == 404 && absent.errorCode == "model_file_not_found", "\(absent.body)")
        let broken = try client.post("/v1/admin/reload", "{\"model\":\"\(Self.setup.data)\"}")
        #expect(broken.status == 422 && broken.errorCode == "reload_failed", "\(broken.body)")
        #expect(try client.post("/v1/predict", row).status == 200)
    }

    @Test func sighupReloadsTheFileAndSigtermDrainsAndExitsZero() throws {
        let path = Self.setup.folder.appendingPathComponent("live-\(UUID().uuidString).keel").path
        try FileManager.default.copyItem(atPath: Self.setup.boosted, toPath: path)
        let server = try ServerProcess([path, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path])
        let client = server.client
        func version() throws -> String? { ((try client.get("/readyz").json)?["model"] as? [String: Any])?["version"] as? String }
        let before = try version()
        let linearVersion = String(try Artifact.read(from: Self.setup.linear).info.checksum.prefix(12))
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: Self.setup.linear, toPath: path)
        server.signal(SIGHUP)
        let deadline = Date().addingTimeInterval(10)
        while try version() != linearVersion, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(try version() == linearVersion && before != linearVersion)
        // The log line may reach the pipe a moment after the swap is visible.
        while !server.stderr.contains("model reloaded"), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(server.stderr.contains("model reloaded"))
        // SIGTERM while a request is half sent: the request is still answered, then the server exits 0.
        let row = Array(try Self.oneRow().utf8)
        let head = Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(row.count)\r\n\r\n".utf8)
        let inFlight = try client.stall(sending: head + row.prefix(10))
        defer { close(inFlight) }
        Thread.sleep(forTimeInterval: 0.2)
        server.signal(SIGTERM)
        Thread.sleep(forTimeInterval: 0.3)
        let answer = try client.finish(inFlight, sending: Array(row.dropFirst(10)))
        #expect(answer.status == 200, "\(answer.body)")
        #expect(server.stop() == 0)
    }

    @Test func servesOverTLSWhenGivenACertificate() throws {
        let folder = Self.setup.folder
        let cert = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        let server = try ServerProcess([Self.setup.boosted, "--tls-cert", cert, "--tls-key", key, "--keys-file", folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        #expect(server.scheme == "https")
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sk", "https://127.0.0.1:\(server.port)/v1/predict", "-H", "Content-Type: application/json", "-d", try Self.oneRow()]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        let body = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        curl.waitUntilExit()
        #expect(body.contains("\"predictions\""), "\(body)")
        // Plain HTTP to the TLS port is not answered as HTTP.
        #expect((try? server.client.get("/healthz"))?.status != 200)
    }
}
