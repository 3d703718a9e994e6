import Foundation
import KeelData

/// What each route takes and answers: its parameters, body, success and every error status with the codes
/// its handler throws. `OpenAPIDocument` adds what every route shares (keys, 431, 500).
extension OpenAPIDocument {
    struct Operation {
        var id: String
        var description = ""
        var parameters: [[String: Any]] = []
        var body: [String: Any]?
        var bodyRequired = true
        var success: (description: String, mediaType: String, schema: [String: Any])
        /// Status → the error codes the handler may answer with.
        var errors: [Int: [String]] = [:]
    }

    /// The codes a row decoder throws with 422 (`RowDecoder.rows(of:)`, `frame(_:)` and the parser).
    static let rowErrors = ["unknown_field", "duplicate_field", "missing_field", "wrong_type", "string_too_long", "non_finite_number",
                            "invalid_body", "empty_batch", "too_many_rows", "invalid_row", "invalid_input", "not_finite_result"]
    /// What reading any JSON body may answer (`PredictionServer.collect` and `parse`).
    static let bodyErrors: [Int: [String]] = [400: ["invalid_json", "invalid_body"], 413: ["body_too_large"], 415: ["unsupported_media_type"]]

    /// The operation of `route`; `model` is the model a `{name}` route is written out for (nil: the template).
    func operation(_ route: Route, model concrete: LoadedModel? = nil) -> Operation {
        let only = models.count == 1 ? models.first : nil
        switch "\(route.method.rawValue) \(route.path)" {
        case "GET /healthz":
            return Operation(id: "healthz", success: ("the process answers", json, closed(required: ["status"], ["status": ["const": "ok"]])))
        case "GET /readyz":
            let ready: [String: Any] = registry
                ? closed(required: ["status", "models"], ["status": ["const": "ready"], "models": ["type": "array", "items": Self.identityRef]])
                : closed(required: ["status", "model"], ["status": ["const": "ready"], "model": Self.identityRef])
            return Operation(id: "readyz", success: ("a model is loaded and served", json, ready), errors: registry ? [503: ["not_ready"]] : [:])
        case "POST /v1/predict":
            guard let only else { return unservable(id: "predict", route) }
            return scoring(id: "predict", only, explain: false)
        case "POST /v1/explain":
            guard let only else { return unservable(id: "explain", route) }
            return scoring(id: "explain", only, explain: true)
        case "POST /v1/models/{name}/predict":
            return named(route, concrete) { scoring(id: $0, $1, explain: false) }
        case "POST /v1/models/{name}/explain":
            return named(route, concrete) { scoring(id: $0, $1, explain: true) }
        case "GET /v1/model":
            guard only != nil else { return unservable(id: "manifest", route) }
            return Operation(id: "manifest", success: ("the manifest (schema included), identity and container facts", json, Self.manifest))
        case "GET /v1/models/{name}":
            return named(route, concrete) { id, _ in
                Operation(id: id, success: ("the model's manifest (schema included), identity and container facts", json, Self.manifest))
            }
        case "GET /v1/models":
            return Operation(id: "models", success: ("the served models, by name", json, ["type": "array", "items": Self.identityRef]))
        case "POST /v1/feedback":
            return feedback()
        case "POST /v1/admin/reload":
            return reload()
        case "GET /v1/review":
            return reviewList()
        case "POST /v1/review/{id}":
            return reviewDecision()
        case "GET /metrics":
            return Operation(id: "metrics", success: ("Prometheus text exposition format", "text/plain", ["type": "string"]))
        case "GET /openapi.json":
            return Operation(id: "openapi", success: ("this document (OpenAPI 3.1)", json, ["type": "object"]))
        case "GET /docs":
            return Operation(id: "docs", success: ("this document as one HTML page (no scripts, no external assets)", "text/html", ["type": "string"]))
        default:
            preconditionFailure("no OpenAPI operation for \(route.method.rawValue) \(route.path)")
        }
    }

    private var json: String { "application/json" }
    static var identityRef: [String: Any] { ["$ref": "#/components/schemas/Identity"] }
    static var manifest: [String: Any] {
        let properties: [String: Any] = [
            "name": ["type": "string"], "version": ["type": "string"], "checksum": ["type": "string"], "signer": ["type": "string"],
            "encrypted": ["type": "boolean"], "manifest": ["type": "object", "description": "the artefact's manifest, schema included"],
        ]
        return ["type": "object", "required": ["name", "version", "checksum", "encrypted", "manifest"], "properties": properties]
    }

    /// Predict or explain for one model.
    private func scoring(id: String, _ model: LoadedModel, explain: Bool) -> Operation {
        var operation = Operation(
            id: id,
            body: ref(explain ? "ExplainRequest" : "PredictRequest", model),
            success: explain
                ? ("one explanation per row: attributions (exact Shapley values in the model's margin) and reason codes", json, ref("ExplainResponse", model))
                : ("one prediction per row, in order, each with its input warnings", json, ref("PredictResponse", model)),
            errors: Self.bodyErrors)
        operation.errors[422] = Self.rowErrors + (explain ? ["invalid_parameter"] : limits.strictLevels ? ["unseen_level"] : [])
        let rules = explain ? [] : model.humility?.rules ?? []
        if rules.contains(where: { $0.action == .error }) { operation.errors[422]?.append("humility_error") }
        if rules.contains(where: { $0.action == .review }) { operation.errors[503] = ["review_unavailable"] }
        let overflow = " Values so far outside the training range that the model's result is not a finite number (a linear model's margin"
            + " can overflow) answer 422 not_finite_result: no schema can say where that starts."
        if explain {
            operation.description = "At most \(min(limits.maxRows, explanations.maxRows)) rows (--max-explain-rows) and "
                + "\(NumberFormatting.canonical(explanations.timeLimitSeconds)) s (--explain-timeout) per request; 503 when every worker is busy." + overflow
            operation.parameters = [["name": "top_k", "in": "query", "required": false, "description": "reason codes per direction",
                                     "schema": ["type": "integer", "minimum": 1, "maximum": 50, "default": 3]]]
            operation.errors[500] = ["explanation_failed"]
            operation.errors[503] = ["explanations_busy", "explanation_timeout", "shutting_down"]
        } else {
            operation.description = "At most \(limits.maxRows) rows (--max-rows) and \(limits.maxBodyBytes) bytes (--max-body-bytes) per request."
                + (limits.strictLevels ? " A categorical value training never saw is refused (--strict-levels)." : "") + overflow
        }
        return operation
    }

    /// A `{name}` route: written out for one model, or the template, which takes any served name.
    private func named(_ route: Route, _ concrete: LoadedModel?, _ make: (String, LoadedModel) -> Operation) -> Operation {
        let suffix = route.path.hasSuffix("/predict") ? "Predict" : route.path.hasSuffix("/explain") ? "Explain" : "Manifest"
        if let concrete {
            var operation = make("\(concrete.name).\(suffix.lowercased())", concrete)
            operation.errors[404, default: []].append("model_not_found")
            return operation
        }
        let nameSchema: [String: Any] = models.isEmpty ? ["type": "string"] : ["type": "string", "enum": models.map(\.name)]
        let name: [String: Any] = ["name": "name", "in": "path", "required": true, "description": "a served model's name (GET /v1/models lists them)",
                                   "schema": nameSchema]
        var operation: Operation
        if let only = models.first, models.count == 1 {
            operation = make("model\(suffix)", only)
        } else if models.isEmpty {
            operation = unservable(id: "model\(suffix)", route)
        } else {
            // Several models: the body and answer are the named model's; each has its own path below with its schemas.
            let each = models.map { make("", $0) }
            operation = each[0]
            operation.id = "model\(suffix)"
            operation.description = "The body and the answer are the named model's: each served model has its own path in this document with its exact schemas."
            if operation.body != nil { operation.body = ["anyOf": each.compactMap(\.body)] }
            operation.success.schema = ["anyOf": each.map(\.success.schema)]
        }
        operation.parameters.insert(name, at: 0)
        operation.errors[404, default: []].append("model_not_found")
        return operation
    }

    /// `/v1/predict`, `/v1/explain`, `/v1/model` when not exactly one model is served: always 404.
    private func unservable(id: String, _ route: Route) -> Operation {
        Operation(id: id, description: models.isEmpty
            ? "No model is served yet (none in production in the registry): this answers 404."
            : "This server serves several models: this answers 404; use the /v1/models/NAME/ paths.",
            success: ("never: see the description", json, ["type": "object"]), errors: [404: ["model_not_found"]])
    }

    private func feedback() -> Operation {
        let item = closed(required: ["request_id", "label"], [
            "request_id": ["type": "string", "minLength": 1, "maxLength": 200, "description": "the request_id of the prediction's response"],
            "row": ["type": "integer", "minimum": 0, "maximum": 999_999_999, "default": 0, "description": "the row of that request"],
            "label": ["type": ["string", "number", "boolean"], "maxLength": limits.maxStringLength, "description": "the true outcome, read as text"],
        ])
        let batch = closed(required: ["feedback"], ["feedback": ["type": "array", "minItems": 1, "maxItems": limits.maxRows, "items": item]])
        var operation = Operation(id: "feedback", body: ["oneOf": [item, batch]], success: ("how many labels were stored", json,
                                  closed(required: ["accepted"], ["accepted": ["type": "integer", "minimum": 1]])))
        guard feedbackEnabled else {
            operation.description = "This server does not log predictions (--log-predictions), so this answers 404."
            operation.errors = [404: ["feedback_disabled"]]
            return operation
        }
        operation.description = "Labels for logged predictions, by request id and row, for monitoring."
        operation.errors = Self.bodyErrors
        operation.errors[404] = ["unknown_prediction"]
        operation.errors[422] = ["invalid_field", "unknown_field", "missing_field", "non_finite_number"]
        operation.errors[503] = ["store_unavailable"]
        return operation
    }

    static var reviewItem: [String: Any] {
        let json: [String: Any] = ["type": "object"]
        return closed(required: ["id", "model", "version", "created_at", "request_id", "row", "prediction", "probabilities", "reasons", "flags", "status"], [
            "id": ["type": "integer", "minimum": 1], "model": ["type": "string"], "version": ["type": "string"],
            "created_at": ["type": "string", "format": "date-time"], "request_id": ["type": "string"],
            "row": ["type": "object", "description": "the row's fields as the client sent them"],
            "prediction": ["type": "string", "description": "what the server answered"],
            "probabilities": ["oneOf": [["type": "object", "additionalProperties": ["type": "number"]], ["type": "null"]]],
            "reasons": json, "flags": ["type": "array", "items": ["$ref": "#/components/schemas/HumilityFlag"]],
            "status": ["type": "string", "enum": ["open", "decided"]],
            "decision": ["type": "string", "enum": ["confirm", "override"]], "label": ["type": "string"], "comment": ["type": "string"],
            "decided_by": ["type": "string"], "decided_at": ["type": "string", "format": "date-time"],
        ])
    }

    private func reviewList() -> Operation {
        var operation = Operation(id: "reviewList", success: ("the items, least confident first", json,
                                  closed(required: ["items"], ["items": ["type": "array", "items": Self.reviewItem]])))
        operation.description = "Predictions a humility rule with action review queued, with the row, the prediction, its reason codes and the rules that fired."
        operation.parameters = [
            ["name": "model", "in": "query", "required": false, "schema": ["type": "string"], "description": "only this model's items"],
            ["name": "status", "in": "query", "required": false, "schema": ["type": "string", "enum": ["open", "decided", "all"], "default": "open"]],
            ["name": "limit", "in": "query", "required": false, "schema": ["type": "integer", "minimum": 1, "maximum": 1000, "default": 50]],
        ]
        operation.errors = [404: ["review_disabled"], 422: ["unknown_parameter", "invalid_parameter"]]
        return operation
    }

    private func reviewDecision() -> Operation {
        let body = closed(required: ["decision"], [
            "decision": ["type": "string", "enum": ["confirm", "override"]],
            "label": ["type": ["string", "number", "boolean"], "description": "override: the right label (a class of the model, or a number)"],
            "comment": ["type": "string", "maxLength": 10_000],
        ])
        var operation = Operation(id: "reviewDecide", body: body, success: ("the decided item", json, Self.reviewItem))
        operation.description = "Records the decision once (audited, with the key that made it) and keeps it as a feedback label with its source: review-confirm or review-override."
        operation.parameters = [["name": "id", "in": "path", "required": true, "schema": ["type": "integer", "minimum": 1]]]
        operation.errors = Self.bodyErrors
        operation.errors[404] = ["review_disabled", "unknown_review"]
        operation.errors[409] = ["already_decided"]
        operation.errors[422] = ["invalid_field", "unknown_field", "missing_field", "invalid_label", "non_finite_number"]
        return operation
    }

    private func reload() -> Operation {
        let identity = Self.identityRef
        var operation = Operation(id: "reload", bodyRequired: false, success: ("the models swapped in, and the ones they replaced", json, [:]))
        operation.errors = Self.bodyErrors
        if registry {
            operation.description = "Reads the registry's production versions now (and the keys file); an empty body or {}."
            operation.body = closed(required: [], [:])
            operation.success.schema = closed(required: ["changes"], ["changes": ["type": "array", "items": closed(required: ["model", "previous"], [
                "model": ["oneOf": [identity, ["type": "null"]]], "previous": ["oneOf": [identity, ["type": "null"]]],
            ])]])
            operation.errors[422] = ["unknown_field", "invalid_body", "reload_failed"]
        } else {
            operation.description = "Loads the model file again, or the one named, and the keys file, and swaps them in; on failure the previous model stays."
            operation.body = closed(required: [], ["model": ["type": "string", "minLength": 1, "description": "a model file's path on the server"]])
            operation.success.schema = closed(required: ["model", "previous"], ["model": identity, "previous": identity])
            operation.errors[404] = ["model_file_not_found"]
            operation.errors[422] = ["unknown_field", "reload_failed"]
        }
        return operation
    }
}
