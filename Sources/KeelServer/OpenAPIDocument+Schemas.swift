import Foundation
import KeelData
import KeelLearn

/// The schemas of what the server sends and takes, per served model where they depend on it. Every object
/// the server writes is closed (`additionalProperties: false`) and lists what it always writes as required,
/// so the contract test notices a field added or dropped without the document.
extension OpenAPIDocument {
    /// `#/components/schemas/NAME`, with the model's name in front when several models are served.
    func ref(_ name: String, _ model: LoadedModel) -> [String: Any] {
        ["$ref": "#/components/schemas/" + componentName(name, model)]
    }

    func componentName(_ name: String, _ model: LoadedModel) -> String {
        models.count == 1 ? name : "\(model.name).\(name)"
    }

    /// The schemas one model adds: its row, request bodies, predictions and explanations.
    func modelComponents(_ model: LoadedModel) -> [String: Any] {
        let decoder = model.decoder
        let row = decoder.rowSchema()
        let rowRef = ref("Row", model)
        return [
            componentName("Row", model): row,
            componentName("PredictRequest", model): decoder.bodySchema(row: rowRef, maxRows: limits.maxRows),
            componentName("ExplainRequest", model): decoder.bodySchema(row: rowRef, maxRows: min(limits.maxRows, explanations.maxRows)),
            componentName("Prediction", model): predictionSchema(model),
            componentName("PredictResponse", model): closed(required: model.privacyJSON == nil ? ["model", "request_id", "predictions"] : ["model", "request_id", "privacy", "predictions"], [
                "model": identitySchema(model), "request_id": Self.requestID, "privacy": Self.privacy,
                "predictions": ["type": "array", "minItems": 1, "items": ref("Prediction", model), "description": "one per row, in order"],
            ]),
            componentName("ExplainResponse", model): closed(required: ["model", "request_id", "task", "target", "units", "explanations"], [
                "model": identitySchema(model), "request_id": Self.requestID, "privacy": Self.privacy,
                "task": ["type": "string", "enum": [model.artifact.manifest.schema.task?.kind.rawValue ?? TaskKind.regression.rawValue]],
                "target": ["type": "string"],
                "units": ["type": "string", "description": "what attributions are measured in"],
                "explanations": ["type": "array", "minItems": 1, "items": ref("RowExplanation", model),
                                 "description": "one per row, in order: the rows of `keel explain --json`"],
            ]),
            componentName("RowExplanation", model): rowExplanationSchema(model),
        ]
    }

    /// What the model's privacy rules do to a request's fields (present when it has rules).
    static var privacy: [String: Any] {[
        "type": "object", "additionalProperties": false, "required": ["dropped", "pseudonymised", "generalised"],
        "description": "the model's privacy rules: fields removed before anything reads them, fields replaced by their keyed HMAC, fields coarsened (with the rule)",
        "properties": [
            "dropped": ["type": "array", "items": ["type": "string"]],
            "pseudonymised": ["type": "array", "items": ["type": "string"]],
            "generalised": ["type": "object", "additionalProperties": ["type": "string"]],
        ],
    ]}

    /// The schemas every document has.
    func sharedComponents() -> [String: Any] {
        [
            "Error": closed(required: ["error"], [
                "error": closed(required: ["code", "message", "row", "field"], [
                    "code": ["type": "string", "description": "stable, for programs: each response below lists the codes it may carry"],
                    "message": ["type": "string", "description": "for people: what is wrong and where"],
                    "row": ["type": ["integer", "null"], "minimum": 0, "description": "the 0-based row of a batch the error is about"],
                    "field": ["type": ["string", "null"], "description": "the field (or parameter) the error is about; long names are cut"],
                ]),
            ]),
            "Identity": Self.identity,
            "ReasonCode": closed(required: ["column", "value", "attribution", "text"], [
                "column": ["type": "string"],
                "value": ["type": "string", "description": "the row's value as written, or \"missing\""],
                "attribution": ["type": "number"],
                "probability_change": ["type": "number"],
                "text": ["type": "string"],
            ]),
            "HumilityFlag": closed(required: ["rule", "trigger", "action", "reason"], [
                "rule": ["type": "string", "description": "the rule's name (keel.yaml `name:`, else TRIGGER#N)"],
                "trigger": ["type": "string", "enum": HumilityRule.Trigger.allCases.map(\.rawValue)],
                "action": ["type": "string", "enum": HumilityRule.Action.allCases.map(\.rawValue)],
                "reason": ["type": "string"],
            ]),
            "InputWarning": closed(required: ["code", "field", "value", "message"], [
                "code": ["type": "string", "enum": InputWarning.Code.allCases.map(\.rawValue)],
                "field": ["type": "string"], "value": ["type": "string"], "message": ["type": "string"],
            ]),
        ]
    }

    static var identity: [String: Any] { closed(required: ["name", "version"], ["name": ["type": "string"], "version": ["type": "string"]]) }
    static var requestID: [String: Any] { ["type": "string", "minLength": 1, "description": "the X-Request-Id of this request"] }

    /// `{"name", "version"}` of this model: the name is fixed, the version changes with reloads.
    func identitySchema(_ model: LoadedModel) -> [String: Any] {
        Self.closed(required: ["name", "version"], ["name": ["const": model.name], "version": ["type": "string"]])
    }

    private func predictionSchema(_ model: LoadedModel) -> [String: Any] {
        let warnings: [String: Any] = ["type": "array", "items": ["$ref": "#/components/schemas/InputWarning"],
                                       "description": "where the prediction rests on an input training never saw (empty when none)"]
        let flags: [String: Any] = ["type": "array", "items": ["$ref": "#/components/schemas/HumilityFlag"],
                                    "description": "the model's humility rules that fired on the row (empty when none)"]
        let review: [String: Any] = ["type": "integer", "minimum": 1, "description": "the review queue item, when a review rule queued the row"]
        guard model.isClassifier else {
            return closed(required: ["prediction", "warnings", "flags"], [
                "prediction": ["type": "number"], "warnings": warnings, "flags": flags, "review_id": review,
                "model_prediction": ["type": "number", "description": "what the model predicted, when an override rule replaced it"],
            ])
        }
        let probability: [String: Any] = ["type": "number", "minimum": 0, "maximum": 1]
        return closed(required: ["prediction", "probabilities", "warnings", "flags"], [
            "prediction": ["type": "string", "enum": model.classes],
            "probabilities": closed(required: model.classes, Dictionary(uniqueKeysWithValues: model.classes.map { ($0, probability) })),
            "warnings": warnings,
            "flags": flags,
            "review_id": review,
            "model_prediction": ["type": "string", "enum": model.classes, "description": "what the model predicted, when an override rule replaced it"],
        ])
    }

    private func rowExplanationSchema(_ model: LoadedModel) -> [String: Any] {
        let reasons: [String: Any] = ["type": "array", "items": ["$ref": "#/components/schemas/ReasonCode"]]
        let label: [String: Any] = model.isClassifier ? ["type": "string", "enum": model.classes] : ["type": "string"]
        var properties: [String: Any] = [
            "row": ["type": "integer", "minimum": 0],
            "prediction": label,
            "base": ["type": "number"],
            "margin": ["type": "number", "description": "base + the sum of attributions"],
            "attributions": ["type": "object", "additionalProperties": ["type": "number"], "description": "per input column"],
            "up": reasons, "down": reasons,
        ]
        if model.isClassifier {
            properties["explained_class"] = ["type": "string", "enum": model.classes, "description": "the class whose margin is explained"]
            properties["probability"] = ["type": "number", "minimum": 0, "maximum": 1, "description": "the predicted probability of explained_class"]
        }
        return closed(required: ["row", "prediction", "base", "margin", "attributions", "up", "down"], properties)
    }

    func closed(required: [String], _ properties: [String: Any]) -> [String: Any] { Self.closed(required: required, properties) }

    /// An object with exactly `properties`, of which `required` are always present.
    static func closed(required: [String], _ properties: [String: Any]) -> [String: Any] {
        var schema: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
        if !required.isEmpty { schema["required"] = required }
        return schema
    }
}
