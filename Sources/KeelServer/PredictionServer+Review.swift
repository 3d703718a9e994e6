import Foundation
import Hummingbird
import KeelData
import KeelExplain
import KeelLearn
import KeelRegistry
import Synchronization

/// The review queue over HTTP: items queued by humility rules with action `review`, listed least confident
/// first, decided by a reviewer (or admin) key; a decision becomes a feedback label with its source.
extension PredictionServer {
    /// Queues the rows a `review` rule fired on, synchronously, with their reason codes. Returns each
    /// queued row's item id.
    static func queueReviews(model: LoadedModel, store: any RegistryStore, requestID: String, rows: [[(key: String, value: JSONValue)]],
                             frame: Frame, answered: [Predictor.Prediction], outcomes: [HumilityGuard.Outcome]) async throws -> [Int: Int] {
        let queued = outcomes.indices.filter { outcomes[$0].review }
        guard !queued.isEmpty else { return [:] }
        // Reason codes for what the model itself said; when they cannot be made, the item says why.
        let (reasons, unexplained) = ReviewReasons.make(model.artifact.model, frame: frame, rows: queued)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let now = Date().timeIntervalSince1970
        let items = try queued.enumerated().map { index, row in
            let prediction = answered[row]
            var probabilities: String?
            if model.isClassifier {
                var writer = JSONWriter()
                writer.beginObject()
                for (c, p) in prediction.probabilities.enumerated() { writer.key(model.classes[c]); writer.number(p) }
                writer.endObject()
                probabilities = writer.text
            }
            let reasonJSON = try ReviewReasons.json(reasons, index, unexplained: unexplained)
            return ReviewItem(model: model.name, version: model.version, requestID: requestID, row: row, createdAt: now,
                              inputs: rawJSON(rows[row]), prediction: prediction.label, probabilities: probabilities,
                              confidence: model.isClassifier ? prediction.probabilities.max() : nil, reasons: reasonJSON,
                              flags: String(decoding: try encoder.encode(outcomes[row].flags), as: UTF8.self))
        }
        let ids = try await store.queueReview(items)
        return Dictionary(uniqueKeysWithValues: zip(queued, ids))
    }

    /// A row's fields as the client sent them.
    static func rawJSON(_ row: [(key: String, value: JSONValue)]) -> String {
        var writer = JSONWriter(capacity: 32 * row.count)
        func write(_ value: JSONValue) {
            switch value {
            case .null: writer.null()
            case .bool(let b): writer.bool(b)
            case .number(let x): writer.number(x)
            case .string(let s): writer.string(s)
            case .array(let items):
                writer.beginArray()
                items.forEach(write)
                writer.endArray()
            case .object(let members):
                writer.beginObject()
                for (key, item) in members { writer.key(key); write(item) }
                writer.endObject()
            }
        }
        write(.object(row))
        return writer.text
    }

    /// `GET /v1/review?model=NAME&status=open|decided&limit=N`.
    static func listReviews(_ request: Request, store: (any RegistryStore)?) async throws -> Response {
        let store = try reviewStore(store)
        let query = request.uri.queryParameters
        for (key, _) in query where !["model", "status", "limit"].contains(String(key)) {
            throw APIError(.unprocessableContent, "unknown_parameter", "unknown parameter '\(APIError.truncated(String(key)))'; the review list takes model, status and limit", field: String(key))
        }
        var status: ReviewItem.Status? = .open
        if let text = query["status"] {
            guard text == "all" || ReviewItem.Status(rawValue: String(text)) != nil else {
                throw APIError(.unprocessableContent, "invalid_parameter", "status must be open, decided or all, not '\(APIError.truncated(String(text)))'", field: "status")
            }
            status = ReviewItem.Status(rawValue: String(text))
        }
        var limit = 50
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw APIError(.unprocessableContent, "invalid_parameter", "limit must be a whole number from 1 to 1000, not '\(APIError.truncated(String(text)))'", field: "limit")
            }
            limit = value
        }
        let (model, chosen, most) = (query["model"].map(String.init), status, limit)
        let items = try await offLoop { try await store.reviewItems(model: model, status: chosen, limit: most) }
        return json(#"{"items":[\#(items.map(itemJSON).joined(separator: ","))]}"#)
    }

    /// `POST /v1/review/{id}` with `{"decision": "confirm" | "override", "label": …, "comment": "…"}`.
    static func decideReview(_ request: Request, context: KeelRequestContext, slot: ModelSlot, store: (any RegistryStore)?) async throws -> Response {
        let store = try reviewStore(store)
        let text = try context.parameters.require("id")
        guard let id = Int(text), id > 0 else {
            throw APIError(.notFound, "unknown_review", "there is no review item '\(APIError.truncated(text))'", field: "id")
        }
        var request = request
        let body = try parse(try await collect(&request, limit: slot.limits.maxBodyBytes))
        guard case .object(let members) = body else { throw APIError(.badRequest, "invalid_body", "the body must be a JSON object") }
        var decision: ReviewItem.Decision?, label: String?, comment = ""
        for (key, value) in members {
            switch (key, value) {
            case ("decision", .string(let text)):
                guard let parsed = ReviewItem.Decision(rawValue: text) else {
                    throw APIError(.unprocessableContent, "invalid_field", "decision must be confirm or override, not '\(APIError.truncated(text))'", field: "decision")
                }
                decision = parsed
            case ("label", .string(let text)) where RowDecoder.length(text) <= slot.limits.maxStringLength: label = text
            case ("label", .number(let x)): label = NumberFormatting.canonical(x)
            case ("label", .bool(let b)): label = b ? "true" : "false"
            case ("comment", .string(let text)) where RowDecoder.length(text) <= 10_000: comment = text
            case ("decision", _), ("label", _), ("comment", _):
                throw APIError(.unprocessableContent, "invalid_field", "\(key) has the wrong type or is too long", field: key)
            default:
                throw APIError(.unprocessableContent, "unknown_field", "unknown field '\(APIError.truncated(key))'; a decision takes decision, label and comment", field: key)
            }
        }
        guard let decision else { throw APIError(.unprocessableContent, "missing_field", "decision is required (confirm or override)", field: "decision") }
        let actor = reviewer(request, keys: slot.keys)
        let served = slot.models
        let (givenLabel, givenComment) = (label, comment)
        let item = try await offLoop { () throws -> ReviewItem in
            guard let item = try await store.reviewItem(id) else { throw APIError(.notFound, "unknown_review", "there is no review item \(id)", field: "id") }
            if let label = givenLabel, decision == .override, let model = served[item.model] {
                if model.isClassifier, !model.classes.contains(label) {
                    throw APIError(.unprocessableContent, "invalid_label", "'\(APIError.truncated(label))' is not a class of \(item.model) (its classes: \(model.classes.joined(separator: ", ")))", field: "label")
                }
                if !model.isClassifier, !(Double(label)?.isFinite ?? false) {
                    throw APIError(.unprocessableContent, "invalid_label", "'\(APIError.truncated(label))' is not a number, and \(item.model) is a regression model", field: "label")
                }
            }
            do {
                return try await store.decideReview(id: id, decision: decision, label: givenLabel, comment: givenComment, actor: actor)
            } catch RegistryError.conflict(let message) {
                throw APIError(.conflict, "already_decided", message, field: "id")
            } catch RegistryError.notFound(let message) {
                throw APIError(.notFound, "unknown_review", message, field: "id")
            } catch RegistryError.invalid(let message) {
                throw APIError(.unprocessableContent, "invalid_label", message, field: "label")
            }
        }
        ServerMetrics.shared.reviewDecision(item.decision?.rawValue ?? "?")
        return json(itemJSON(item))
    }

    private static func reviewStore(_ store: (any RegistryStore)?) throws -> any RegistryStore {
        guard let store else {
            throw APIError(.notFound, "review_disabled", "this server has no review queue: no humility rule of its models has action review, and it has no registry to keep one in")
        }
        return store
    }

    /// Who decided, for the audit log: the key's name and id, or that no keys are in force.
    static func reviewer(_ request: Request, keys: APIKeyStore?) -> String {
        guard let keys, !keys.isEmpty, let secret = Authorization.bearerToken(request.headers[.authorization]), let key = keys.key(of: secret) else {
            return "anonymous (the server has no API keys)"
        }
        return "api-key \(key.name) (\(key.id), \(key.role.rawValue))"
    }

    /// One item as the API answers it (the same form `keel review … --json` prints).
    static func itemJSON(_ item: ReviewItem) -> String { ReviewItem.jsonText(item.json) }
}

/// Where review items go: the registry a server follows, or, for a server of one model file, the registry
/// folder in its settings, opened (and created) when a review rule first queues a row.
final class ReviewQueue: Sendable {
    private let folder: String?
    private let opened: Mutex<(any RegistryStore)?>

    init(store: (any RegistryStore)?, folder: String?) {
        self.folder = folder
        opened = Mutex(store)
    }

    /// The store to queue into; an error when there is none to be had.
    func forQueueing() async throws -> any RegistryStore {
        if let store = opened.withLock({ $0 }) { return store }
        guard let folder else { throw RegistryError.invalid("no registry to keep the review queue in") }
        let made = try await RegistryStores.open(folder, create: true)
        return opened.withLock { store in
            if let store { return store }
            store = made
            return made
        }
    }

    /// The store to list and decide in: nil when no registry exists (nothing was ever queued).
    func forReading() async -> (any RegistryStore)? {
        if let store = opened.withLock({ $0 }) { return store }
        guard let folder, RegistryStores.exists(folder), let made = try? await RegistryStores.open(folder, create: false) else { return nil }
        return opened.withLock { store in
            if let store { return store }
            store = made
            return made
        }
    }
}
