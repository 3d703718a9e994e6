import Dispatch
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KeelArtifact
import KeelData
import KeelExplain
import KeelLearn
import KeelRegistry
import Logging
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// The request handlers: predict, feedback, explain.
extension PredictionServer {
    /// The caller takes the model once: a reload during this request does not change what answers it.
    static func predict(_ request: Request, context: KeelRequestContext, model: LoadedModel, limits: ServerLimits,
                        log: PredictionLogger? = nil, shadow: LoadedModel? = nil, reviews: ReviewQueue? = nil) async throws -> Response {
        var request = request
        let body = try await collect(&request, limit: limits.maxBodyBytes)
        // The privacy rules first: the frame, the log, the review queue see only their result. The rows as
        // sent stay in memory for a shadow model, which applies its own rules.
        let sent = try model.decoder.rows(of: try parse(body))
        let rows = sent.map(model.decoder.protect)
        let frame = try model.decoder.frame(rows)
        // Where a prediction rests on a guess (an unseen level, a value past the training range, a missing
        // value never missing in training), it says so; --strict-levels refuses unseen levels instead.
        let warnings = model.expectations.warnings(frame)
        if limits.strictLevels, let (row, unseen) = warnings.enumerated().lazy.compactMap({ row, list in list.first { $0.code == .unseenLevel }.map { (row, $0) } }).first {
            throw APIError(.unprocessableContent, "unseen_level", unseen.message + " (the server runs with --strict-levels)",
                           row: warnings.count > 1 ? row : nil, field: unseen.field)
        }
        let predictions: [Predictor.Prediction]
        do {
            predictions = try model.artifact.model.predictor.predict(frame)
        } catch {
            throw APIError(.unprocessableContent, "invalid_input", String(describing: error))
        }
        // Finite inputs so far outside training that the model's arithmetic overflows (a linear model's margin)
        // have no answer to give: refused, never answered with null.
        if let row = predictions.firstIndex(where: { !($0.value ?? 0).isFinite || $0.probabilities.contains { !$0.isFinite } }) {
            throw APIError(.unprocessableContent, "not_finite_result",
                           "the prediction is not a finite number: the row's values are too far outside the training range for this model",
                           row: predictions.count > 1 ? row : nil)
        }
        ServerMetrics.shared.inputWarnings(warnings)
        // Humility rules: flags on every prediction, overrides in place of the model's answer, a refusal
        // naming the rule, and rows queued for review (written before the answer, never dropped).
        var outcomes: [HumilityGuard.Outcome] = []
        var answered = predictions
        var reviewIDs: [Int: Int] = [:]
        if let guardian = model.humility {
            outcomes = guardian.evaluate(frame, predictions: predictions, warnings: warnings)
            ServerMetrics.shared.humility(model: model.name, outcomes)
            if let row = outcomes.firstIndex(where: { $0.error != nil }), let flag = outcomes[row].error {
                throw APIError(.unprocessableContent, "humility_error", "humility rule '\(flag.rule)' refuses the row: \(flag.reason)",
                               row: predictions.count > 1 ? row : nil)
            }
            answered = guardian.applying(outcomes, to: predictions)
            if outcomes.contains(where: \.review) {
                let (requestID, answers, found) = (context.requestID, answered, outcomes)
                do {
                    reviewIDs = try await offLoop {
                        guard let store = try await reviews?.forQueueing() else { throw RegistryError.invalid("this server has no review queue") }
                        return try await queueReviews(model: model, store: store, requestID: requestID, rows: rows, frame: frame, answered: answers, outcomes: found)
                    }
                } catch {
                    throw APIError(.serviceUnavailable, "review_unavailable", "a review rule fired, and the row could not be queued for review, so no answer is given: \(error)")
                }
            }
        }
        var writer = JSONWriter(capacity: 128 + predictions.count * (40 + 32 * model.classes.count))
        writer.beginObject()
        writer.key("model"); writer.raw(model.identityJSON)
        writer.key("request_id"); writer.string(context.requestID)
        if let privacy = model.privacyJSON { writer.key("privacy"); writer.raw(privacy) }
        writer.key("predictions")
        writer.beginArray()
        var counts: [String: Int] = [:]
        var confidences: [Double] = []
        var values: [Double] = []
        for (index, prediction) in answered.enumerated() {
            writer.beginObject()
            writer.key("warnings")
            writer.beginArray()
            for warning in warnings[index] {
                writer.beginObject()
                writer.key("code"); writer.string(warning.code.rawValue)
                writer.key("field"); writer.string(warning.field)
                writer.key("value"); writer.string(warning.value)
                writer.key("message"); writer.string(warning.message)
                writer.endObject()
            }
            writer.endArray()
            writer.key("flags")
            writer.beginArray()
            if !outcomes.isEmpty {
                for flag in outcomes[index].flags {
                    writer.beginObject()
                    writer.key("rule"); writer.string(flag.rule)
                    writer.key("trigger"); writer.string(flag.trigger.rawValue)
                    writer.key("action"); writer.string(flag.action.rawValue)
                    writer.key("reason"); writer.string(flag.reason)
                    writer.endObject()
                }
            }
            writer.endArray()
            if !outcomes.isEmpty, outcomes[index].override != nil {
                writer.key("model_prediction")
                if model.isClassifier { writer.string(predictions[index].label) } else { writer.number(predictions[index].value ?? .nan) }
            }
            if let id = reviewIDs[index] { writer.key("review_id"); writer.number(Double(id)) }
            writer.key("prediction")
            if model.isClassifier {
                writer.string(prediction.label)
                writer.key("probabilities")
                writer.beginObject()
                for (c, p) in prediction.probabilities.enumerated() {
                    writer.key(model.classes[c])
                    writer.number(p)
                }
                writer.endObject()
                counts[prediction.label, default: 0] += 1
                confidences.append(prediction.probabilities.max() ?? 0)
            } else {
                writer.number(prediction.value ?? .nan)
                values.append(prediction.value ?? .nan)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        ServerMetrics.shared.predictions(classCounts: counts, confidences: confidences, values: values)
        if let log, log.samples() {
            let now = Date().timeIntervalSince1970
            let trained = model.artifact.model
            log.offer(zip(rows, predictions).enumerated().map { index, pair in
                let (inputs, subject) = log.inputs(pair.0, idColumn: model.idColumn)
                return PredictionRecord(model: model.name, version: model.version, requestID: context.requestID, row: index, time: now,
                                        inputs: inputs, prediction: pair.1.label, score: trained.predictor.monitoredScore(pair.1), subject: subject)
            })
            // The challenger answers the same rows after the client has its response; only the log sees it.
            if let shadow {
                let requestID = context.requestID
                Task.detached {
                    guard let shadowFrame = try? shadow.decoder.frame(sent.map(shadow.decoder.protect)),
                          let answers = try? shadow.artifact.model.predictor.predict(shadowFrame) else { return }
                    log.offer(answers.enumerated().map { index, answer in
                        PredictionRecord(model: model.name + PredictionRecord.shadowSuffix, version: shadow.version, requestID: requestID, row: index,
                                         time: now, inputs: "{}", prediction: answer.label, score: shadow.artifact.model.predictor.monitoredScore(answer), subject: nil)
                    })
                }
            }
        }
        return json(writer.text)
    }

    /// `POST /v1/feedback`: ground truth for earlier predictions, by request id and row:
    /// `{"request_id": "…", "row": 0, "label": "yes"}` or `{"feedback": [ … ]}`.
    static func feedback(_ request: Request, context: KeelRequestContext, slot: ModelSlot, log: PredictionLogger?) async throws -> Response {
        guard let log else {
            throw APIError(.notFound, "feedback_disabled", "this server does not log predictions, so there is nothing to attach labels to (enable prediction_log)")
        }
        var request = request
        let body = try parse(try await collect(&request, limit: slot.limits.maxBodyBytes))
        guard case .object(let members) = body else { throw APIError(.badRequest, "invalid_body", "the body must be a JSON object") }
        var items: [[(key: String, value: JSONValue)]] = []
        if members.count == 1, members[0].key == "feedback" {
            guard case .array(let array) = members[0].value, !array.isEmpty, array.count <= slot.limits.maxRows else {
                throw APIError(.unprocessableContent, "invalid_field", "feedback must be an array of 1 to \(slot.limits.maxRows) objects", field: "feedback")
            }
            for (index, item) in array.enumerated() {
                guard case .object(let fields) = item else { throw APIError(.unprocessableContent, "invalid_field", "feedback[\(index)] must be an object", field: "feedback") }
                items.append(fields)
            }
        } else {
            items = [members]
        }
        let now = Date().timeIntervalSince1970
        var accepted = 0
        for (index, fields) in items.enumerated() {
            var requestID: String?, row = 0, label: String?
            for (key, value) in fields {
                switch (key, value) {
                case ("request_id", .string(let text)) where !text.isEmpty && RowDecoder.length(text) <= 200: requestID = text
                case ("row", .number(let x)) where x >= 0 && x == x.rounded() && x < 1e9: row = Int(x)
                case ("label", .string(let text)) where RowDecoder.length(text) <= slot.limits.maxStringLength: label = text
                case ("label", .number(let x)): label = NumberFormatting.canonical(x)
                case ("label", .bool(let b)): label = b ? "true" : "false"
                case ("request_id", _), ("row", _), ("label", _):
                    throw APIError(.unprocessableContent, "invalid_field", "\(key) has the wrong type or range", row: items.count > 1 ? index : nil, field: key)
                default:
                    throw APIError(.unprocessableContent, "unknown_field", "unknown field '\(key)'; feedback takes request_id, row and label", row: items.count > 1 ? index : nil, field: key)
                }
            }
            guard let requestID else { throw APIError(.unprocessableContent, "missing_field", "request_id is required", row: items.count > 1 ? index : nil, field: "request_id") }
            guard let label else { throw APIError(.unprocessableContent, "missing_field", "label is required", row: items.count > 1 ? index : nil, field: "label") }
            let known: Bool
            do {
                let given = row
                known = try await offLoop { try await log.registry.recordFeedback(requestID: requestID, row: given, label: label, time: now) }
            } catch {
                throw APIError(.serviceUnavailable, "store_unavailable", "the feedback could not be stored: \(error)")
            }
            guard known else {
                throw APIError(.notFound, "unknown_prediction", "no logged prediction has request_id '\(requestID)' and row \(row) (not sampled, not yet written, or expired)",
                               row: items.count > 1 ? index : nil, field: "request_id")
            }
            accepted += 1
        }
        return json(#"{"accepted":\#(accepted)}"#)
    }

    /// Attributions and reason codes for the posted rows; `?top_k=N` sets the reasons per direction. Runs
    /// on the explanation pool in chunks of rows, within its row and time limits.
    static func explain(_ request: Request, context: KeelRequestContext, model: LoadedModel, limits: ServerLimits,
                        pool: ExplanationPool) async throws -> Response {
        let topK: Int
        if let text = request.uri.queryParameters["top_k"] {
            guard let value = Int(text), (1...50).contains(value) else {
                throw APIError(.unprocessableContent, "invalid_parameter", "top_k must be a whole number from 1 to 50, not '\(APIError.truncated(text))'", field: "top_k")
            }
            topK = value
        } else {
            topK = 3
        }
        var request = request
        let body = try await collect(&request, limit: limits.maxBodyBytes)
        // Everything after reading the body (parsing, the explanation, encoding the answer) runs on the pool:
        // a 200-row explanation's JSON alone would hold an event loop for milliseconds.
        let requestID = context.requestID
        let maxRows = pool.settings.maxRows, timeLimit = pool.settings.timeLimitSeconds
        do {
            let channel = context.channel
            let gone = channel.flatMap(ConnectionWatch.clientGone)
            let text = try await pool.run(clientGone: { gone?.isSet == true || channel.map { !$0.isActive } ?? false }) { check in
                let rows = try model.decoder.rows(of: try parse(body)).map(model.decoder.protect)
                guard rows.count <= maxRows else {
                    throw APIError(.unprocessableContent, "too_many_rows",
                                   "\(rows.count) rows to explain in one request; the limit is \(maxRows) (--max-explain-rows)", field: "rows")
                }
                let frame = try model.decoder.frame(rows)
                // The same computation and the same encoding as `keel explain --json`: one Explanation, rendered
                // here. Rows are explained alone, so chunks give the same numbers as one batch.
                var all: Explanation?
                for start in stride(from: 0, to: frame.rowCount, by: Self.explainChunk) {
                    do {
                        try check()
                    } catch ExplanationPool.Stop.timeout {
                        throw APIError(.serviceUnavailable, "explanation_timeout",
                                       "explaining \(frame.rowCount) rows took longer than \(NumberFormatting.canonical(timeLimit)) s (--explain-timeout); send fewer rows at once")
                    }
                    let chunk = Array(start..<min(start + Self.explainChunk, frame.rowCount))
                    var part: Explanation
                    do {
                        part = try Explainer.explain(model.artifact.model, frame: frame.selecting(rows: chunk), modelName: model.name, dataName: "request",
                                                     request: ExplanationRequest(rows: Array(0..<chunk.count), topK: topK)).explanation
                    } catch ExplanationError.notFinite(let place) {
                        // Finite inputs so far outside training that a linear margin overflows: the input's doing.
                        throw APIError(.unprocessableContent, "not_finite_result",
                                       "the explanation is not a finite number (\(place) of rows \(start) to \(start + chunk.count - 1)): the values are too far outside the training range for this model")
                    } catch let error as ExplanationError {
                        throw APIError(.internalServerError, "explanation_failed", error.description)
                    } catch {
                        throw APIError(.unprocessableContent, "invalid_input", String(describing: error))
                    }
                    for i in part.rows.indices { part.rows[i].row += start }
                    if all == nil { all = part } else { all!.rows += part.rows }
                }
                guard let explanation = all else { throw APIError(.unprocessableContent, "empty_batch", "no rows to explain", field: "rows") }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                var writer = JSONWriter(capacity: 512 * explanation.rows.count + 256)
                writer.beginObject()
                writer.key("model"); writer.raw(model.identityJSON)
                writer.key("request_id"); writer.string(requestID)
                if let privacy = model.privacyJSON { writer.key("privacy"); writer.raw(privacy) }
                writer.key("task"); writer.string(explanation.task.rawValue)
                writer.key("target"); writer.string(explanation.target)
                writer.key("units"); writer.string(explanation.units)
                writer.key("explanations"); writer.raw(String(decoding: try encoder.encode(explanation.rows), as: UTF8.self))
                writer.endObject()
                return writer.text
            }
            ServerMetrics.shared.explanation("ok")
            return json(text)
        } catch let error as APIError {
            if error.code == "explanation_timeout" { ServerMetrics.shared.explanation("timeout") }
            throw error
        } catch ExplanationPool.Stop.cancelled {
            ServerMetrics.shared.explanation("cancelled")
            throw ClientAbort()
        } catch ExplanationPool.Stop.shuttingDown {
            ServerMetrics.shared.explanation("cancelled")
            throw APIError(.serviceUnavailable, "shutting_down", "the server is shutting down")
        } catch ExplanationPool.Stop.timeout {
            ServerMetrics.shared.explanation("timeout")
            throw APIError(.serviceUnavailable, "explanation_timeout",
                           "the explanation waited longer than \(NumberFormatting.canonical(timeLimit)) s for a worker (--explain-timeout); retry shortly")
        }
    }

    /// Rows explained between two checks for a stop: small enough to stop within a fraction of a second.
    static let explainChunk = 16
}
