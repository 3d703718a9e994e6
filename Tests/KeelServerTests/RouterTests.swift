import Foundation
import Hummingbird
import HummingbirdTesting
import KeelArtifact
import KeelData
import KeelRegistry
@testable import KeelServer
import KeelSynthetic
import KeelTestSupport
import Logging
import Testing

/// The server's router in-process: `PredictionServer.makeRouter` driven by HummingbirdTesting's `.router`
/// setup, with no process and no port. Routing, status codes, error bodies and authorization are checked
/// here in milliseconds; Tests/KeelCLITests keeps the end-to-end layer (a real `keel serve` on a socket).
@Suite struct RouterTests {
    /// A small churn model (`keel example --rows 400 --seed 3`), checked in.
    static let fixture = Datasets.packageRoot.appendingPathComponent("Tests/Fixtures/artifacts/format-v2.keel").path

    // MARK: Harness

    static func loadModel() throws -> LoadedModel {
        try LoadedModel(path: fixture, options: Artifact.ReadOptions(), limits: ServerLimits())
    }

    /// The data the fixture was trained on, read as `keel predict` reads a CSV file.
    static func trainingData(for model: LoadedModel) throws -> Frame {
        var options = CSVOptions()
        options.stringColumns = Set(model.artifact.model.schema.textColumns ?? [])
        return try CSVReader.read(bytes: Array(CustomerChurnData(rows: 400, seed: 3).csv().utf8), options: options)
    }

    /// Row `index` of the training data as the JSON object a client sends: the feature and id columns of the
    /// model's schema, numbers as numbers, everything else as strings, missing values left out.
    static func jsonRow(_ index: Int, of frame: Frame, model: LoadedModel) throws -> String {
        var fields: [String] = []
        for column in model.artifact.manifest.schema.columns where column.role == .feature || column.role == .id {
            let data = try #require(frame[column.name], "the training data has the schema's column \(column.name)")
            guard let value = data.displayValue(at: index) else { continue }
            let encoded = switch column.kind {
            case .numeric, .boolean: value
            case .categorical, .text, .datetime:
                "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            }
            fields.append("\"\(column.name)\":\(encoded)")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func row() throws -> String {
        let model = try loadModel()
        return try jsonRow(0, of: try trainingData(for: model), model: model)
    }

    static var logger: Logger {
        var logger = Logger(label: "keel.server.test")
        logger.logLevel = .error
        return logger
    }

    /// Runs `body` against a router serving the fixture, with `keys` in force (nil: no keys file, all open).
    static func withRouter<Value: Sendable>(keys: APIKeyStore? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let slot = ModelSlot(models: [try loadModel()], source: .file, keys: keys, readOptions: Artifact.ReadOptions(), limits: ServerLimits(),
                             keysPath: keys?.path)
        let router = PredictionServer.makeRouter(slot: slot, logger: logger)
        let app = Application(router: router, logger: logger)
        return try await app.test(.router, body)
    }

    /// A keys file in a fresh temporary folder holding one predict key and one admin key.
    static func makeKeys() throws -> (store: APIKeyStore, predict: String, admin: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-router-\(UUID().uuidString)")
        var store = try APIKeyStore(path: folder.appendingPathComponent("api-keys.json").path)
        let predict = try store.create(role: .predict, name: "app").secret
        let admin = try store.create(role: .admin, name: "ops").secret
        return (store, predict, admin)
    }

    static func bearer(_ secret: String) -> HTTPFields { [.authorization: "Bearer \(secret)"] }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    static func text(_ response: TestResponse) -> String { String(decoding: response.body.readableBytesView, as: UTF8.self) }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
        return try #require(parsed as? [String: Any], "the body is a JSON object: \(text(response))")
    }

    /// The `{"error": {...}}` body every 4xx and 5xx carries.
    static func error(_ response: TestResponse) throws -> [String: Any] {
        try #require(try object(response)["error"] as? [String: Any], "an error body: \(text(response))")
    }

    // MARK: Health

    @Test func healthzAnswersOK() async throws {
        try await Self.withRouter { client async throws in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(try Self.object(response)["status"] as? String == "ok")
            // The middleware gives every response a request id.
            #expect(!(response.headers[.init("X-Request-Id")!] ?? "").isEmpty)
        }
    }

    @Test func readyzNamesTheServedModel() async throws {
        let model = try Self.loadModel()
        try await Self.withRouter { client async throws in
            let response = try await client.execute(uri: "/readyz", method: .get)
            #expect(response.status == .ok)
            let body = try Self.object(response)
            #expect(body["status"] as? String == "ready")
            let identity = try #require(body["model"] as? [String: Any], "\(Self.text(response))")
            #expect(identity["name"] as? String == model.name)
            #expect(identity["version"] as? String == model.version)
        }
    }

    // MARK: Predictions

    @Test func predictWithAValidRowReturnsThePredictionTheModelMakes() async throws {
        let model = try Self.loadModel()
        let frame = try Self.trainingData(for: model)
        let row = try Self.jsonRow(0, of: frame, model: model)
        let expected = try #require(try model.artifact.model.predictor.predict(frame).first)
        try #require(model.classes.count == expected.probabilities.count && !model.classes.isEmpty, "a classifier with its classes")
        try await Self.withRouter { client async throws in
            let response = try await client.execute(uri: "/v1/predict", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: row))
            #expect(response.status == .ok, "\(Self.text(response))")
            let body = try Self.object(response)
            #expect((body["model"] as? [String: Any])?["name"] as? String == model.name)
            #expect(!(body["request_id"] as? String ?? "").isEmpty)
            let predictions = try #require(body["predictions"] as? [[String: Any]], "\(Self.text(response))")
            #expect(predictions.count == 1)
            let first = try #require(predictions.first)
            #expect(first["prediction"] as? String == expected.label)
            let probabilities = try #require(first["probabilities"] as? [String: Double], "\(first)")
            #expect(Set(probabilities.keys) == Set(model.classes))
            for (index, name) in model.classes.enumerated() {
                let got = try #require(probabilities[name])
                #expect(abs(got - expected.probabilities[index]) < 1e-9, "\(name): \(got) over HTTP, \(expected.probabilities[index]) in-process")
            }
        }
    }

    @Test func aBatchGetsOnePredictionPerRowInOrder() async throws {
        let model = try Self.loadModel()
        let frame = try Self.trainingData(for: model)
        let rows = try (0..<5).map { try Self.jsonRow($0, of: frame, model: model) }
        let expected = try model.artifact.model.predictor.predict(frame).prefix(5).map(\.label)
        try await Self.withRouter { client async throws in
            let response = try await client.execute(uri: "/v1/predict", method: .post, headers: Self.jsonHeaders,
                                                    body: ByteBuffer(string: "{\"rows\":[" + rows.joined(separator: ",") + "]}"))
            #expect(response.status == .ok, "\(Self.text(response))")
            let predictions = try #require(try Self.object(response)["predictions"] as? [[String: Any]])
            #expect(predictions.compactMap { $0["prediction"] as? String } == Array(expected))
        }
    }

    @Test func malformedJSONIs400NamingTheProblem() async throws {
        try await Self.withRouter { client async throws in
            let response = try await client.execute(uri: "/v1/predict", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: "{oops"))
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "application/json")
            let error = try Self.error(response)
            #expect(error["code"] as? String == "invalid_json")
            let message = try #require(error["message"] as? String)
            #expect(message.contains("not valid JSON") && message.contains("at byte"), "\(message)")

            let empty = try await client.execute(uri: "/v1/predict", method: .post, headers: Self.jsonHeaders, body: ByteBuffer())
            #expect(empty.status == .badRequest)
            #expect(try Self.error(empty)["code"] as? String == "invalid_body")
        }
    }

    @Test func aWrongValueIs422NamingTheField() async throws {
        let model = try Self.loadModel()
        let numeric = try #require(model.artifact.manifest.schema.columns.first { $0.role == .feature && $0.kind == .numeric })
        var object = try #require(try JSONSerialization.jsonObject(with: Data(try Self.row().utf8)) as? [String: Any])
        object[numeric.name] = "abc"
        let body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        try await Self.withRouter { client async throws in
            let response = try await client.execute(uri: "/v1/predict", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: body))
            #expect(response.status == .unprocessableContent, "\(Self.text(response))")
            let error = try Self.error(response)
            #expect(error["code"] as? String == "wrong_type")
            #expect(error["field"] as? String == numeric.name)
        }
    }

    @Test func aBodyDeclaredAsAnythingButJSONIs415() async throws {
        let row = try Self.row()
        try await Self.withRouter { client async throws in
            let plain = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: row))
            #expect(plain.status == .unsupportedMediaType, "\(Self.text(plain))")
            #expect(try Self.error(plain)["code"] as? String == "unsupported_media_type")
            // The same body declared as JSON with parameters, or not declared at all, is read.
            let charset = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "application/json; charset=utf-8"],
                                                   body: ByteBuffer(string: row))
            #expect(charset.status == .ok, "\(Self.text(charset))")
            let undeclared = try await client.execute(uri: "/v1/predict", method: .post, body: ByteBuffer(string: row))
            #expect(undeclared.status == .ok, "\(Self.text(undeclared))")
        }
    }

    // MARK: HTTP semantics

    @Test func anUnknownPathIs404WithAJSONError() async throws {
        try await Self.withRouter { client async throws in
            let response = try await client.execute(uri: "/v2/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/json")
            let error = try Self.error(response)
            #expect(error["code"] as? String == "not_found")
            #expect((error["message"] as? String ?? "").contains("/v2/nothing"), "\(error)")
        }
    }

    @Test func aKnownPathWithTheWrongMethodIs405WithAllow() async throws {
        try await Self.withRouter { client async throws in
            let get = try await client.execute(uri: "/v1/predict", method: .get)
            #expect(get.status == .methodNotAllowed, "\(Self.text(get))")
            #expect(get.headers[.allow] == "POST")
            #expect(try Self.error(get)["code"] as? String == "method_not_allowed")
            let put = try await client.execute(uri: "/healthz", method: .put)
            #expect(put.status == .methodNotAllowed)
            #expect(put.headers[.allow] == "GET, HEAD")
            // A parameterised route too.
            let delete = try await client.execute(uri: "/v1/models/churn/predict", method: .delete)
            #expect(delete.status == .methodNotAllowed)
            #expect(delete.headers[.allow] == "POST")
        }
    }

    @Test func headOnAGetRouteAnswersLikeGetWithoutABody() async throws {
        try await Self.withRouter { client async throws in
            let head = try await client.execute(uri: "/healthz", method: .head)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0, "\(Self.text(head))")
            #expect(head.headers[.contentType] == "application/json")
            let ready = try await client.execute(uri: "/readyz", method: .head)
            #expect(ready.status == .ok)
            #expect(ready.body.readableBytes == 0)
        }
    }

    // MARK: Authorization

    @Test func keysGateRoutesByRole() async throws {
        let keys = try Self.makeKeys()
        let row = try Self.row()
        try await Self.withRouter(keys: keys.store) { client async throws in
            func predict(_ headers: HTTPFields) async throws -> TestResponse {
                try await client.execute(uri: "/v1/predict", method: .post, headers: headers.merging(Self.jsonHeaders), body: ByteBuffer(string: row))
            }
            // No key, a key the store does not hold, another scheme: 401 with the Bearer challenge.
            let anonymous = try await predict([:])
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
            #expect(try Self.error(anonymous)["code"] as? String == "unauthorized")
            #expect(try await predict(Self.bearer("keel_wrong")).status == .unauthorized)
            #expect(try await predict([.authorization: "Basic abc"]).status == .unauthorized)
            // The predict key may predict (the scheme is case-insensitive)...
            #expect(try await predict(Self.bearer(keys.predict)).status == .ok)
            #expect(try await predict([.authorization: "bearer \(keys.predict)"]).status == .ok)
            // ...but not call an admin route.
            let forbidden = try await client.execute(uri: "/v1/model", method: .get, headers: Self.bearer(keys.predict))
            #expect(forbidden.status == .forbidden, "\(Self.text(forbidden))")
            #expect(try Self.error(forbidden)["code"] as? String == "forbidden")
            #expect(!Self.text(forbidden).contains("manifest"))
            let reload = try await client.execute(uri: "/v1/admin/reload", method: .post, headers: Self.bearer(keys.predict))
            #expect(reload.status == .forbidden)
            #expect(try await client.execute(uri: "/v1/model", method: .get).status == .unauthorized)
            // The admin key may call both.
            let manifest = try await client.execute(uri: "/v1/model", method: .get, headers: Self.bearer(keys.admin))
            #expect(manifest.status == .ok, "\(Self.text(manifest))")
            #expect(try Self.object(manifest)["manifest"] is [String: Any])
            #expect(try await predict(Self.bearer(keys.admin)).status == .ok)
            // The API description needs a key of any role; health checks need none; a path no route has is
            // the same 404 with or without a key (routing decides before authorization).
            #expect(try await client.execute(uri: "/openapi.json", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/openapi.json", method: .get, headers: Self.bearer(keys.predict)).status == .ok)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/v1/nothing/here", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/v1/nothing/here", method: .get, headers: Self.bearer(keys.admin)).status == .notFound)
        }
    }

    @Test func withoutKeysEveryRouteIsOpen() async throws {
        try await Self.withRouter { client async throws in
            #expect(try await client.execute(uri: "/v1/model", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/openapi.json", method: .get).status == .ok)
        }
    }

    // MARK: The API's description

    @Test func theOpenAPIDocumentListsEveryRoute() async throws {
        let model = try Self.loadModel()
        try await Self.withRouter { client async throws in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let document = try Self.object(response)
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: Any], "\(Self.text(response))")
            #expect(Set(paths.keys) == Set(Routes.all.map(\.path)))
            for route in Routes.all {
                let operations = try #require(paths[route.path] as? [String: Any], "\(route.path)")
                #expect(operations[route.method.rawValue.lowercased()] != nil, "\(route.method.rawValue) \(route.path) is described")
            }
            // The row schema is the served model's.
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
            let rowSchema = try #require(schemas["Row"] as? [String: Any], "\(schemas.keys.sorted())")
            let properties = try #require(rowSchema["properties"] as? [String: Any])
            #expect(Set(properties.keys) == Set(model.artifact.manifest.schema.columns.map(\.name)))
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged.append(field) }
        return merged
    }
}
