import Foundation
import KeelData
import KeelLearn

/// The OpenAPI 3.1 description of the running server, made on each request from what the server runs on:
/// the paths and access rules of `Routes.all`, each route's operation (`OpenAPIDocument+Operations`), the
/// row schema of the input contract (`RowDecoder+Schema`), the limits and the keys in force. A route added
/// to `Routes.all` without an operation stops the server at start (`makeRouter` renders the document once).
///
/// With several models served (a registry), the `{name}` routes are also written out per model
/// (`/v1/models/churn/predict`), each with that model's exact schemas, marked `x-keel-route` with the
/// route they belong to; the templated paths take any served name.
///
/// Why 3.1 rather than 3.0: 3.1's schemas are JSON Schema 2020-12, which can say "a string, a number or a
/// boolean, or null" in one `type` list, which is what a categorical column accepts.
struct OpenAPIDocument {
    /// The served models, by name.
    var models: [LoadedModel]
    /// Serving a registry's production models (else one file).
    var registry: Bool
    var limits: ServerLimits
    var explanations: ExplanationLimits
    /// Whether the keys file holds keys: when not, every route is open.
    var keysInForce: Bool
    var metricsNeedKey: Bool
    /// Whether predictions are logged, so `/v1/feedback` has something to attach labels to.
    var feedbackEnabled: Bool

    init(models: [LoadedModel], registry: Bool, limits: ServerLimits, explanations: ExplanationLimits = ExplanationLimits(),
         keysInForce: Bool, metricsNeedKey: Bool = false, feedbackEnabled: Bool = false) {
        self.models = models.sorted { $0.name < $1.name }
        (self.registry, self.limits, self.explanations) = (registry, limits, explanations)
        (self.keysInForce, self.metricsNeedKey, self.feedbackEnabled) = (keysInForce, metricsNeedKey, feedbackEnabled)
    }

    /// The request line and headers a request may have (Hummingbird's default decoder limit); past it, 431.
    static let maxHeaderBytes = 80 * 1024

    func render() -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: document(), options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    func document() -> [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for route in Routes.all {
            paths[route.path, default: [:]][route.method.rawValue.lowercased()] = operationObject(route, operation(route))
        }
        if models.count > 1 {
            for model in models {
                for route in Routes.all where route.path.contains("{name}") {
                    var object = operationObject(route, operation(route, model: model))
                    object["x-keel-route"] = route.path
                    paths[route.path.replacingOccurrences(of: "{name}", with: model.name), default: [:]][route.method.rawValue.lowercased()] = object
                }
            }
        }
        var schemas = sharedComponents()
        for model in models { schemas.merge(modelComponents(model)) { a, _ in a } }
        let title = models.isEmpty ? "Keel prediction server" : "Keel prediction server: " + models.map(\.name).joined(separator: ", ")
        return [
            "openapi": "3.1.0",
            "info": ["title": title, "version": models.map { "\($0.name)@\($0.version)" }.joined(separator: ", "), "description": overview],
            "paths": paths,
            "components": ["schemas": schemas, "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "an API key from `keel keys create`"]]],
        ]
    }

    private var overview: String {
        var text = keysInForce
            ? "API keys are in force: every operation but the health checks needs `Authorization: Bearer KEY` (the scheme in any case); each operation says which roles may call it."
            : "This server has no API keys: every operation is open (create one with `keel keys create --role predict`)."
        text += " Errors are `{\"error\": {\"code\", \"message\", \"row\", \"field\"}}` with a 4xx or 5xx status; each response lists its codes."
            + " Any other method on a path here answers 405 with `Allow`; HEAD works wherever GET does."
            + " A request line and headers over \(Self.maxHeaderBytes / 1024) KiB answer 431."
        return text
    }

    /// Whether calling `route` needs a key on this server, and which roles pass.
    private func access(_ route: Route) -> (secured: Bool, roles: String) {
        guard keysInForce else { return (false, "Open: this server has no API keys.") }
        switch route.access {
        case .open: return (false, "Open: no key needed.")
        case .anyKey: return (true, "Any valid key.")
        case .predict: return (true, "A predict or admin key.")
        case .metrics: return metricsNeedKey ? (true, "A metrics or admin key.") : (false, "Open on this server (server.metrics_auth), which listens on loopback.")
        case .review: return (true, "A reviewer or admin key.")
        case .admin: return (true, "An admin key.")
        }
    }

    /// The OpenAPI operation object: the route's own parts plus what every route shares.
    private func operationObject(_ route: Route, _ operation: Operation) -> [String: Any] {
        let (secured, roles) = access(route)
        var errors = operation.errors
        if secured {
            errors[401] = ["unauthorized"]
            if route.access != .anyKey { errors[403] = ["forbidden"] }
        }
        errors[431] = ["headers_too_large"]
        errors[500, default: []].append("internal")
        var responses: [String: Any] = [
            "200": response(operation.success.description, mediaType: operation.success.mediaType, schema: operation.success.schema),
        ]
        for (status, codes) in errors {
            var headers: [String: Any] = [:]
            if status == 401 { headers["WWW-Authenticate"] = ["required": true, "schema": ["type": "string"], "description": "Bearer"] }
            if status == 503 { headers["Retry-After"] = ["schema": ["type": "string"], "description": "seconds to wait before retrying"] }
            let schema: [String: Any] = ["allOf": [["$ref": "#/components/schemas/Error"],
                                                   ["properties": ["error": ["properties": ["code": ["enum": codes]]]]]]]
            responses[String(status)] = response(Self.statusText(status) + ": " + codes.joined(separator: ", "), schema: schema, headers: headers)
        }
        var object: [String: Any] = [
            "operationId": operation.id, "summary": route.summary, "responses": responses,
            "description": ([roles, operation.description].filter { !$0.isEmpty }).joined(separator: " "),
            "security": secured ? [["bearer": [String]()]] : [[String: [String]]](),
        ]
        if !operation.parameters.isEmpty { object["parameters"] = operation.parameters }
        if let body = operation.body {
            object["requestBody"] = ["required": operation.bodyRequired, "content": ["application/json": ["schema": body]]]
        }
        return object
    }

    private func response(_ description: String, mediaType: String = "application/json", schema: [String: Any], headers: [String: Any] = [:]) -> [String: Any] {
        var headers = headers
        headers["X-Request-Id"] = ["required": true, "schema": ["type": "string"], "description": "the request's id: the client's when it sent a plain one, else the server's"]
        return ["description": description, "headers": headers, "content": [mediaType: ["schema": schema]]]
    }

    static func statusText(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status \(status)"
        }
    }
}

extension OpenAPIDocument {
    /// The document of what `slot` serves now, with the access rules and limits the server runs with.
    init(slot: ModelSlot, authorization: Authorization, explanations: ExplanationLimits, feedbackEnabled: Bool) {
        var registry = false
        if case .registry = slot.source { registry = true }
        self.init(models: Array(slot.models.values), registry: registry, limits: slot.limits, explanations: explanations,
                  keysInForce: !(slot.keys?.isEmpty ?? true), metricsNeedKey: authorization.metricsNeedKey, feedbackEnabled: feedbackEnabled)
    }
}
