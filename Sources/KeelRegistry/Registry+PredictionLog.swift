import Foundation
import GRDB

/// One logged prediction: what came in (after exclusions and hashing), what went out, and who asked.
public struct PredictionRecord: Codable, Sendable, Equatable {
    /// Appended to a model name for the predictions its shadow (the staging version) made on the same rows.
    public static let shadowSuffix = "#shadow"

    public var model: String
    public var version: String
    public var requestID: String
    /// The row's position in a batch request (0 for a single row).
    public var row: Int
    /// Seconds since 1970.
    public var time: Double
    /// The logged input fields as a JSON object.
    public var inputs: String
    public var prediction: String
    /// The number monitoring follows (positive-class probability, top probability, or the value).
    public var score: Double
    /// The value of the model's id column, when the request had one (the key `keel log purge --id` uses).
    public var subject: String?

    public init(model: String, version: String, requestID: String, row: Int, time: Double, inputs: String, prediction: String,
                score: Double, subject: String?) {
        (self.model, self.version, self.requestID, self.row, self.time) = (model, version, requestID, row, time)
        (self.inputs, self.prediction, self.score, self.subject) = (inputs, prediction, score, subject)
    }
}

/// A logged prediction with the ground truth attached later, if any.
public struct LoggedPrediction: Sendable, Equatable {
    public var record: PredictionRecord
    public var label: String?
    /// Where the label came from (nil without a label).
    public var source: LabelSource?

    public init(record: PredictionRecord, label: String?, source: LabelSource? = nil) {
        (self.record, self.label) = (record, label)
        self.source = label == nil ? nil : source ?? .observed
    }
}

extension [LoggedPrediction] {
    /// The log with review labels removed unless `includingReview`: observed outcomes are the default
    /// ground truth, since labels made by reviewing flagged predictions are a biased sample.
    public func labels(includingReview: Bool) -> [LoggedPrediction] {
        includingReview ? self : map { $0.source?.isReview == true ? LoggedPrediction(record: $0.record, label: nil) : $0 }
    }

    /// Labels per source: "12 observed, 3 review-override".
    public var labelCounts: [LabelSource: Int] {
        var counts: [LabelSource: Int] = [:]
        for item in self { if let source = item.source { counts[source, default: 0] += 1 } }
        return counts
    }
}

extension Registry {
    static func createPredictionLog(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE predictions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                model TEXT NOT NULL,
                version TEXT NOT NULL,
                request_id TEXT NOT NULL,
                row INTEGER NOT NULL,
                time REAL NOT NULL,
                inputs TEXT NOT NULL,
                prediction TEXT NOT NULL,
                score REAL,
                subject TEXT
            );
            CREATE INDEX predictions_by_model_time ON predictions(model, time);
            CREATE INDEX predictions_by_request ON predictions(request_id, row);
            CREATE INDEX predictions_by_subject ON predictions(subject);
            CREATE TABLE feedback (
                request_id TEXT NOT NULL,
                row INTEGER NOT NULL,
                label TEXT NOT NULL,
                time REAL NOT NULL,
                PRIMARY KEY (request_id, row)
            );
            """)
    }

    /// Appends a batch in one transaction (the server's log writer calls this off the request path).
    /// Not audited entry by entry: the log is data, not an action.
    public func logPredictions(_ records: [PredictionRecord]) throws {
        guard !records.isEmpty else { return }
        try write(audited: false) { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO predictions (model, version, request_id, row, time, inputs, prediction, score, subject)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for r in records {
                try statement.execute(arguments: [r.model, r.version, r.requestID, r.row, r.time, r.inputs, r.prediction,
                                                  Registry.finite(r.score), r.subject])
            }
        }
    }

    /// Attaches a ground-truth label to a logged prediction. Returns false when no such prediction was logged.
    public func recordFeedback(requestID: String, row: Int, label: String, time: Double) throws -> Bool {
        try write(audited: false) { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM predictions WHERE request_id = ? AND row = ?", arguments: [requestID, row]) != nil else {
                return false
            }
            // An observed label replaces a reviewer's: the world's answer is the better ground truth.
            try db.execute(sql: "INSERT INTO feedback (request_id, row, label, time, source) VALUES (?, ?, ?, ?, 'observed') ON CONFLICT(request_id, row) DO UPDATE SET label = excluded.label, time = excluded.time, source = 'observed'",
                           arguments: [requestID, row, label, time])
            return true
        }
    }

    /// The logged predictions of `model` since `since` (seconds since 1970), oldest first, with labels.
    public func predictionLog(model: String, since: Double) throws -> [LoggedPrediction] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT p.*, f.label, f.source FROM predictions p LEFT JOIN feedback f ON f.request_id = p.request_id AND f.row = p.row
                WHERE p.model = ? AND p.time >= ? ORDER BY p.time, p.id
                """, arguments: [model, since]).map { row in
                LoggedPrediction(record: PredictionRecord(
                    model: row["model"], version: row["version"], requestID: row["request_id"], row: row["row"], time: row["time"],
                    inputs: row["inputs"], prediction: row["prediction"], score: row["score"] ?? .nan, subject: row["subject"]), label: row["label"],
                    source: (row["source"] as String?).flatMap(LabelSource.init(rawValue:)))
            }
        }
    }

    /// Erases every logged prediction (and its feedback) of one subject; audited with the count, not the id.
    public func purgePredictions(subject: String, actor: String) throws -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM feedback WHERE (request_id, row) IN (SELECT request_id, row FROM predictions WHERE subject = ?)", arguments: [subject])
            try db.execute(sql: "DELETE FROM predictions WHERE subject = ?", arguments: [subject])
            let count = db.changesCount
            try AuditLog.append(db, actor: actor, action: "log.purge", subject: "prediction log", details: ["records": String(count)])
            return count
        }
    }

    /// Deletes logged predictions and feedback older than `before` (retention); returns how many went.
    @discardableResult
    public func expirePredictions(before: Double) throws -> Int {
        try write(audited: false) { db in
            try db.execute(sql: "DELETE FROM feedback WHERE (request_id, row) IN (SELECT request_id, row FROM predictions WHERE time < ?)", arguments: [before])
            try db.execute(sql: "DELETE FROM predictions WHERE time < ?", arguments: [before])
            return db.changesCount
        }
    }
}
