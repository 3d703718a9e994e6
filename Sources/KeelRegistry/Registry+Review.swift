import Foundation
import GRDB

/// A prediction a humility rule sent to people: the row as it came, what the model answered, why it was
/// queued, and, once someone decided, what they decided.
public struct ReviewItem: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable { case open, decided }
    public enum Decision: String, Codable, Sendable, CaseIterable {
        /// The prediction was right: it becomes the label.
        case confirm
        /// The prediction was wrong: the reviewer's label replaces it.
        case override
    }

    public var id: Int
    public var model: String
    public var version: String
    public var requestID: String
    /// The row's place in its request.
    public var row: Int
    /// Seconds since 1970.
    public var createdAt: Double
    /// The row's fields as a JSON object, as the client sent them.
    public var inputs: String
    /// What the server answered (after any override rule).
    public var prediction: String
    /// Class probabilities as a JSON object; nil for regression.
    public var probabilities: String?
    /// The top probability; nil for regression. The queue lists the least confident first.
    public var confidence: Double?
    /// The reason codes, as a JSON array.
    public var reasons: String
    /// The humility flags that fired, as a JSON array.
    public var flags: String
    public var status: Status
    public var decision: Decision?
    public var label: String?
    public var comment: String?
    public var decidedBy: String?
    public var decidedAt: Double?

    public init(model: String, version: String, requestID: String, row: Int, createdAt: Double, inputs: String, prediction: String,
                probabilities: String?, confidence: Double?, reasons: String, flags: String) {
        (id, self.model, self.version, self.requestID, self.row, self.createdAt) = (0, model, version, requestID, row, createdAt)
        (self.inputs, self.prediction, self.probabilities, self.confidence, self.reasons, self.flags) = (inputs, prediction, probabilities, confidence, reasons, flags)
        status = .open
    }

    init(_ row: Row) {
        id = row["id"]
        model = row["model"]
        version = row["version"]
        requestID = row["request_id"]
        self.row = row["row"]
        createdAt = row["created_at"]
        inputs = row["inputs"]
        prediction = row["prediction"]
        probabilities = row["probabilities"]
        confidence = row["confidence"]
        reasons = row["reasons"]
        flags = row["flags"]
        status = Status(rawValue: row["status"]) ?? .open
        decision = (row["decision"] as String?).flatMap(Decision.init(rawValue:))
        label = row["label"]
        comment = row["comment"]
        decidedBy = row["decided_by"]
        decidedAt = row["decided_at"]
    }
}

extension ReviewItem {
    /// The item as `GET /v1/review` and `keel review … --json` show it: the row, probabilities, reasons and
    /// flags as JSON values, times as ISO 8601; the decision fields once decided.
    public var json: [String: Any] {
        func value(_ text: String?) -> Any {
            guard let text, let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return NSNull() }
            return parsed
        }
        let time = ISO8601DateFormatter()
        var object: [String: Any] = [
            "id": id, "model": model, "version": version, "created_at": time.string(from: Date(timeIntervalSince1970: createdAt)),
            "request_id": requestID, "row": value(inputs), "prediction": prediction, "probabilities": value(probabilities),
            "reasons": value(reasons), "flags": value(flags), "status": status.rawValue,
        ]
        if status == .decided {
            object["decision"] = decision?.rawValue ?? ""
            object["label"] = label ?? ""
            object["comment"] = comment ?? ""
            object["decided_by"] = decidedBy ?? ""
            object["decided_at"] = time.string(from: Date(timeIntervalSince1970: decidedAt ?? 0))
        }
        return object
    }

    /// `json` as text, keys sorted.
    public static func jsonText(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Where a feedback label came from: observed in the world, or a person's review of a flagged prediction
/// (biased toward what the rules flag: the selective-labels problem).
public enum LabelSource: String, Codable, Sendable, CaseIterable {
    case observed
    case reviewConfirm = "review-confirm"
    case reviewOverride = "review-override"

    public var isReview: Bool { self != .observed }
}

extension Registry {
    static func createReviewQueue(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE review_items (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                model TEXT NOT NULL,
                version TEXT NOT NULL,
                request_id TEXT NOT NULL,
                row INTEGER NOT NULL,
                created_at REAL NOT NULL,
                inputs TEXT NOT NULL,
                prediction TEXT NOT NULL,
                probabilities TEXT,
                confidence REAL,
                reasons TEXT NOT NULL,
                flags TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided')),
                decision TEXT CHECK (decision IN ('confirm', 'override')),
                label TEXT,
                comment TEXT,
                decided_by TEXT,
                decided_at REAL
            );
            CREATE INDEX review_by_model_status ON review_items(model, status, confidence);
            ALTER TABLE feedback ADD COLUMN source TEXT NOT NULL DEFAULT 'observed';
            """)
    }

    /// Queues items in one transaction, synchronously (never through the droppable log queue); returns their ids.
    public func queueReview(_ items: [ReviewItem]) throws -> [Int] {
        guard !items.isEmpty else { return [] }
        return try write(audited: false) { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO review_items (model, version, request_id, row, created_at, inputs, prediction, probabilities, confidence, reasons, flags)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            return try items.map { item in
                try statement.execute(arguments: [item.model, item.version, item.requestID, item.row, item.createdAt, item.inputs, item.prediction,
                                                  item.probabilities, item.confidence.flatMap(Registry.finite), item.reasons, item.flags])
                return Int(db.lastInsertedRowID)
            }
        }
    }

    /// Items, least confident first (then oldest first; items without a confidence after those with one).
    public func reviewItems(model: String?, status: ReviewItem.Status?, limit: Int) throws -> [ReviewItem] {
        try read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let model { conditions.append("model = ?"); arguments.append(model) }
            if let status { conditions.append("status = ?"); arguments.append(status.rawValue) }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments.append(limit)
            return try Row.fetchAll(db, sql: "SELECT * FROM review_items \(filter) ORDER BY confidence IS NULL, confidence, id LIMIT ?",
                                    arguments: StatementArguments(arguments)).map(ReviewItem.init)
        }
    }

    public func reviewItem(_ id: Int) throws -> ReviewItem? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM review_items WHERE id = ?", arguments: [id]).map(ReviewItem.init) }
    }

    /// Records a decision, the feedback label it makes (with its source) and its audit entry in one
    /// transaction. A confirm's label is the prediction. Throws `notFound` for an unknown id and `conflict`
    /// for an item already decided (the first decision stands).
    public func decideReview(id: Int, decision: ReviewItem.Decision, label: String?, comment: String, actor: String,
                             time: Double) throws -> ReviewItem {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM review_items WHERE id = ?", arguments: [id]) else {
                throw RegistryError.notFound("there is no review item \(id)")
            }
            let item = ReviewItem(row)
            let finalLabel = try RegistryRules.decidedLabel(item, id: id, decision: decision, label: label)
            try db.execute(sql: "UPDATE review_items SET status = 'decided', decision = ?, label = ?, comment = ?, decided_by = ?, decided_at = ? WHERE id = ?",
                           arguments: [decision.rawValue, finalLabel, comment, actor, time, id])
            // An observed label already given for the row stands (the world's answer beats a reviewer's).
            // The label joins the prediction log like observed feedback, so monitoring and retraining find it;
            // a queued row the log did not sample is logged now, from the review item.
            if try Int.fetchOne(db, sql: "SELECT 1 FROM predictions WHERE request_id = ? AND row = ?", arguments: [item.requestID, item.row]) == nil {
                try db.execute(sql: """
                    INSERT INTO predictions (model, version, request_id, row, time, inputs, prediction, score, subject)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
                    """, arguments: [item.model, item.version, item.requestID, item.row, item.createdAt, item.inputs, item.prediction,
                                     item.confidence.flatMap(Registry.finite)])
            }
            let source: LabelSource = decision == .confirm ? .reviewConfirm : .reviewOverride
            try db.execute(sql: """
                INSERT INTO feedback (request_id, row, label, time, source) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(request_id, row) DO UPDATE SET label = excluded.label, time = excluded.time, source = excluded.source
                WHERE feedback.source != 'observed'
                """, arguments: [item.requestID, item.row, finalLabel, time, source.rawValue])
            try AuditLog.append(db, actor: actor, action: "review.decide", subject: "\(item.model)@\(item.version) review \(id)",
                                details: RegistryRules.decisionDetails(item, decision: decision, label: finalLabel, comment: comment))
            var decided = item
            (decided.status, decided.decision, decided.label, decided.comment, decided.decidedBy, decided.decidedAt) = (.decided, decision, finalLabel, comment, actor, time)
            return decided
        }
    }
}
