import Foundation
import KeelLearn
import KeelData

/// The OpenAPI 3.0 description of the running server, generated from the served model's schema so that the
/// documented row fields, types and required list are exactly what the validator enforces.
enum OpenAPIDocument {
    static func render(for model: LoadedModel) -> String {
        let schema = model.artifact.manifest.schema
        var properties: [String: Any] = [:]
        for column in schema.columns {
            var property: [String: Any]
            switch column.kind {
            case .numeric: property = ["type": "number"]
            case .datetime: property = ["type": "string", "format": "date-time", "description": "ISO 8601 date or date-time"]
            case .boolean: property = ["type": "boolean"]
            case .categorical, .text: property = ["type": "string", "maxLength": model.decoder.limits.maxStringLength]
            }
            if column.kind == .categorical || column.kind == .text {
                property["description"] = "numbers and booleans are accepted and read as their text"
            }
            if column.role != .feature {
                property["description"] = "\(column.role.rawValue) column: accepted and not used for prediction"
            }
            if column.nullable || column.role != .feature { property["nullable"] = true }
            properties[column.name] = property
        }
        let required = schema.columns.filter { $0.role == .feature && !$0.nullable }.map(\.name)
        var row: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
        if !required.isEmpty { row["required"] = required }

        var prediction: [String: Any] = ["type": "object", "required": ["prediction", "warnings"]]
        let warnings: [String: Any] = [
            "type": "array", "description": "where the prediction rests on an input training never saw (empty when none)",
            "items": ["type": "object", "required": ["code", "field", "value", "message"], "properties": [
                "code": ["type": "string", "enum": InputWarning.Code.allCases.map(\.rawValue)],
                "field": ["type": "string"], "value": ["type": "string"], "message": ["type": "string"],
            ]],
        ]
        if model.isClassifier {
            prediction["properties"] = [
                "prediction": ["type": "string", "enum": model.classes],
                "probabilities": ["type": "object", "properties": Dictionary(uniqueKeysWithValues: model.classes.map { ($0, ["type": "number"]) })],
                "warnings": warnings,
            ]
        } else {
            prediction["properties"] = ["prediction": ["type": "number"], "warnings": warnings]
        }
        let errorBody: [String: Any] = [
            "type": "object", "required": ["error"],
            "properties": ["error": [
                "type": "object", "required": ["code", "message"],
                "properties": [
                    "code": ["type": "string"], "message": ["type": "string"],
                    "row": ["type": "integer", "nullable": true], "field": ["type": "string", "nullable": true],
                ],
            ]],
        ]
        func errorResponse(_ text: String) -> [String: Any] {
            ["description": text, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
        }
        func jsonResponse(_ text: String, _ ref: String) -> [String: Any] {
            ["description": text, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/\(ref)"]]]]
        }
        let secured: [[String: [String]]] = [["bearer": []]]
        let common: [String: Any] = ["401": errorResponse("missing or invalid API key (when keys are configured)"),
                                     "403": errorResponse("the key's role may not call this endpoint")]
        let predictResponses = common.merging([
            "200": jsonResponse("one prediction per row, in order", "PredictResponse"),
            "400": errorResponse("the body is not JSON or not an object"),
            "413": errorResponse("body larger than \(model.decoder.limits.maxBodyBytes) bytes"),
            "422": errorResponse("a field is unknown, missing, of the wrong type, not finite, or too long; `row` and `field` name it"),
        ]) { a, _ in a }
        let document: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": "Keel prediction server: \(model.name)", "version": model.version],
            "paths": [
                "/v1/predict": ["post": [
                    "summary": "Score one row (a JSON object keyed by column) or a batch ({\"rows\": [...]}).",
                    "security": secured,
                    "requestBody": ["required": true, "content": ["application/json": ["schema": ["oneOf": [
                        ["$ref": "#/components/schemas/Row"],
                        ["type": "object", "required": ["rows"], "additionalProperties": false, "properties": [
                            "rows": ["type": "array", "minItems": 1, "maxItems": model.decoder.limits.maxRows, "items": ["$ref": "#/components/schemas/Row"]],
                        ]],
                    ]]]]],
                    "responses": predictResponses,
                ] as [String: Any]],
                "/v1/explain": ["post": [
                    "summary": "Attributions (exact Shapley values in the model's margin) and reason codes for the posted rows.",
                    "security": secured,
                    "parameters": [["name": "top_k", "in": "query", "required": false, "schema": ["type": "integer", "minimum": 1, "maximum": 50, "default": 3]]],
                    "requestBody": ["required": true, "content": ["application/json": ["schema": ["oneOf": [
                        ["$ref": "#/components/schemas/Row"],
                        ["type": "object", "required": ["rows"], "additionalProperties": false, "properties": [
                            "rows": ["type": "array", "minItems": 1, "maxItems": model.decoder.limits.maxRows, "items": ["$ref": "#/components/schemas/Row"]],
                        ]],
                    ]]]]],
                    "responses": predictResponses.merging(["200": jsonResponse("one explanation per row: prediction, base, margin, attributions per column, reasons up and down (the rows of `keel explain --json`)", "ExplainResponse")]) { _, b in b },
                ] as [String: Any]],
                "/v1/model": ["get": ["summary": "The model's manifest and schema.", "security": secured,
                                      "responses": common.merging(["200": ["description": "manifest"]]) { a, _ in a }] as [String: Any]],
                "/v1/admin/reload": ["post": [
                    "summary": "Load a model (default: the same file) and swap it in atomically; admin keys only.",
                    "security": secured,
                    "requestBody": ["required": false, "content": ["application/json": ["schema": [
                        "type": "object", "additionalProperties": false, "properties": ["model": ["type": "string"]],
                    ]]]],
                    "responses": common.merging(["200": ["description": "the new and the previous model"],
                                                 "422": errorResponse("the model could not be loaded; the previous one stays")]) { a, _ in a },
                ] as [String: Any]],
                "/healthz": ["get": ["summary": "Liveness.", "responses": ["200": ["description": "alive"]]]],
                "/readyz": ["get": ["summary": "Readiness: a model is loaded.", "responses": ["200": ["description": "ready"]]]],
                "/metrics": ["get": ["summary": "Prometheus metrics.", "security": secured,
                                     "responses": common.merging(["200": ["description": "text exposition format"]]) { a, _ in a }] as [String: Any]],
                "/openapi.json": ["get": ["summary": "This document.", "security": secured,
                                          "responses": common.merging(["200": ["description": "OpenAPI 3 document"]]) { a, _ in a }] as [String: Any]],
            ] as [String: Any],
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
                "schemas": [
                    "Row": row,
                    "Prediction": prediction,
                    "PredictResponse": [
                        "type": "object", "required": ["model", "request_id", "predictions"],
                        "properties": [
                            "model": ["type": "object", "properties": ["name": ["type": "string"], "version": ["type": "string"]]],
                            "request_id": ["type": "string"],
                            "predictions": ["type": "array", "items": ["$ref": "#/components/schemas/Prediction"]],
                        ],
                    ] as [String: Any],
                    "ExplainResponse": [
                        "type": "object", "required": ["model", "request_id", "task", "target", "units", "explanations"],
                        "properties": [
                            "model": ["type": "object", "properties": ["name": ["type": "string"], "version": ["type": "string"]]],
                            "request_id": ["type": "string"],
                            "task": ["type": "string", "enum": ["binary", "multiclass", "regression"]],
                            "target": ["type": "string"],
                            "units": ["type": "string", "description": "what attributions are measured in"],
                            "explanations": ["type": "array", "items": ["$ref": "#/components/schemas/RowExplanation"]],
                        ],
                    ] as [String: Any],
                    "RowExplanation": [
                        "type": "object", "required": ["row", "prediction", "base", "margin", "attributions", "up", "down"],
                        "properties": [
                            "row": ["type": "integer", "minimum": 0],
                            "prediction": ["type": "string"],
                            "explained_class": ["type": "string", "description": "classifiers: the class whose margin is explained"],
                            "probability": ["type": "number", "minimum": 0, "maximum": 1, "description": "classifiers: the predicted probability of explained_class"],
                            "base": ["type": "number"],
                            "margin": ["type": "number", "description": "base + the sum of attributions"],
                            "attributions": ["type": "object", "additionalProperties": ["type": "number"]],
                            "up": ["type": "array", "items": ["$ref": "#/components/schemas/ReasonCode"]],
                            "down": ["type": "array", "items": ["$ref": "#/components/schemas/ReasonCode"]],
                        ],
                    ] as [String: Any],
                    "ReasonCode": [
                        "type": "object", "required": ["column", "value", "attribution", "text"],
                        "properties": [
                            "column": ["type": "string"],
                            "value": ["type": "string", "description": "the row's value as written, or \"missing\""],
                            "attribution": ["type": "number"],
                            "probability_change": ["type": "number"],
                            "text": ["type": "string"],
                        ],
                    ] as [String: Any],
                    "Error": errorBody,
                ] as [String: Any],
            ] as [String: Any],
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
