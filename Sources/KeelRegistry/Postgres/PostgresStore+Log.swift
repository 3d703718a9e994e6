import Foundation
import KeelArtifact
import PostgresNIO

/// The audit log, the prediction log with its feedback, and the review queue on PostgreSQL. The log and
/// the queue are data, written without audit entries and without the head lock; purges and decisions are
/// actions, audited in the transaction that makes them.
extension PostgresStore {
    // MARK: Audit

    @discardableResult
    public func audit(actor: String, action: String, subject: String, details: [String: String]) async throws -> AuditEntry {
        try await database.appendAudit(actor: actor, action: action, subject: subject, details: details)
    }

    /// Audits a change of a configuration file the first time a command sees its new content.
    public func noteConfiguration(path: String, content: [UInt8], actor: String) async throws {
        let hash = Registry.sha256(content)
        let key = "config:" + ((path as NSString).standardizingPath)
        guard try await setting(key) != hash else { return }
        try await database.audited { tx in
            let known = try await tx.rows("SELECT value FROM settings WHERE key = \(key)").first.map { try $0["value"].decode(String.self) }
            guard known != hash else { return }
            try await tx.execute("INSERT INTO settings (key, value) VALUES (\(key), \(hash)) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            try await tx.append(actor: actor, action: known == nil ? "config.add" : "config.change", subject: path,
                                details: ["sha256": hash, "previous": known ?? ""])
        }
    }

    func setting(_ key: String) async throws -> String? {
        try await database.rows("SELECT value FROM settings WHERE key = \(key)").first.map { try $0["value"].decode(String.self) }
    }

    public func auditEntries() async throws -> [AuditEntry] {
        try await database.auditEntries()
    }

    /// The chain, its head and every signed checkpoint.
    public func verifyAudit() async throws -> AuditVerification {
        try await database.verifyAudit()
    }

    /// Signs the current head and keeps the checkpoint in the database, with its audit entry, in one transaction.
    public func writeCheckpoint(signingKey: SigningKey) async throws -> AuditCheckpoint {
        try await database.audited { tx in
            guard tx.head.count > 0 else { throw RegistryError.invalid("the audit log is empty; there is nothing to sign") }
            var checkpoint = AuditCheckpoint(count: tx.head.count, hash: tx.head.hash, at: Registry.timestamp(),
                                             publicKey: signingKey.verifyKey.base64, signature: "")
            checkpoint.signature = try signingKey.key.signature(for: checkpoint.signedText).base64EncodedString()
            try await tx.execute("""
                INSERT INTO audit_checkpoints ("count", hash, at, public_key, signature)
                VALUES (\(checkpoint.count), \(checkpoint.hash), \(checkpoint.at), \(checkpoint.publicKey), \(checkpoint.signature))
                """)
            try await tx.append(actor: Registry.currentUser, action: "audit.checkpoint", subject: "entry \(checkpoint.count)",
                                details: ["public_key": checkpoint.publicKey])
            return checkpoint
        }
    }

    // MARK: Prediction log and feedback

    public func logPredictions(_ records: [PredictionRecord]) async throws {
        guard !records.isEmpty else { return }
        try await database.unaudited { connection in
            for r in records {
                try await connection.query("""
                    INSERT INTO predictions (model, version, request_id, "row", "time", inputs, prediction, score, subject)
                    VALUES (\(r.model), \(r.version), \(r.requestID), \(r.row), \(r.time), \(r.inputs), \(r.prediction), \(Registry.finite(r.score)), \(r.subject))
                    """, logger: database.logger)
            }
        }
    }

    public func recordFeedback(requestID: String, row: Int, label: String, time: Double) async throws -> Bool {
        try await database.unaudited { connection in
            let known = try await connection.query("SELECT 1 FROM predictions WHERE request_id = \(requestID) AND \"row\" = \(row) LIMIT 1",
                                                   logger: database.logger).collect()
            guard !known.isEmpty else { return false }
            // An observed label replaces a reviewer's: the world's answer is the better ground truth.
            try await connection.query("""
                INSERT INTO feedback (request_id, "row", label, "time", source) VALUES (\(requestID), \(row), \(label), \(time), 'observed')
                ON CONFLICT (request_id, "row") DO UPDATE SET label = excluded.label, "time" = excluded."time", source = 'observed'
                """, logger: database.logger)
            return true
        }
    }

    public func predictionLog(model: String, since: Double) async throws -> [LoggedPrediction] {
        try await database.rows("""
            SELECT p.model, p.version, p.request_id, p."row", p."time", p.inputs, p.prediction, p.score, p.subject, f.label, f.source
            FROM predictions p LEFT JOIN feedback f ON f.request_id = p.request_id AND f."row" = p."row"
            WHERE p.model = \(model) AND p."time" >= \(since) ORDER BY p."time", p.id
            """).map { row in
            LoggedPrediction(record: PredictionRecord(
                model: try row["model"].decode(String.self), version: try row["version"].decode(String.self),
                requestID: try row["request_id"].decode(String.self), row: try row["row"].decode(Int.self), time: try row["time"].decode(Double.self),
                inputs: try row["inputs"].decode(String.self), prediction: try row["prediction"].decode(String.self),
                score: try row["score"].decode(Double?.self) ?? .nan, subject: try row["subject"].decode(String?.self)),
                label: try row["label"].decode(String?.self), source: try row["source"].decode(String?.self).flatMap(LabelSource.init(rawValue:)))
        }
    }

    public func purgePredictions(subject: String, actor: String) async throws -> Int {
        try await database.audited { tx in
            try await tx.execute("""
                DELETE FROM feedback WHERE (request_id, "row") IN (SELECT request_id, "row" FROM predictions WHERE subject = \(subject))
                """)
            let removed = try await tx.rows("DELETE FROM predictions WHERE subject = \(subject) RETURNING id")
            try await tx.append(actor: actor, action: "log.purge", subject: "prediction log", details: ["records": String(removed.count)])
            return removed.count
        }
    }

    @discardableResult
    public func expirePredictions(before: Double) async throws -> Int {
        try await database.unaudited { connection in
            try await connection.query("""
                DELETE FROM feedback WHERE (request_id, "row") IN (SELECT request_id, "row" FROM predictions WHERE "time" < \(before))
                """, logger: database.logger)
            let removed = try await connection.query("DELETE FROM predictions WHERE \"time\" < \(before) RETURNING id", logger: database.logger).collect()
            return removed.count
        }
    }

    // MARK: Review queue

    public func queueReview(_ items: [ReviewItem]) async throws -> [Int] {
        guard !items.isEmpty else { return [] }
        return try await database.unaudited { connection in
            var ids: [Int] = []
            for item in items {
                let rows = try await connection.query("""
                    INSERT INTO review_items (model, version, request_id, "row", created_at, inputs, prediction, probabilities, confidence, reasons, flags)
                    VALUES (\(item.model), \(item.version), \(item.requestID), \(item.row), \(item.createdAt), \(item.inputs), \(item.prediction),
                            \(item.probabilities), \(item.confidence.flatMap(Registry.finite)), \(item.reasons), \(item.flags))
                    RETURNING id
                    """, logger: database.logger).collect()
                ids.append(try rows[0].decode(Int.self))
            }
            return ids
        }
    }

    public func reviewItems(model: String?, status: ReviewItem.Status?, limit: Int) async throws -> [ReviewItem] {
        var query: PostgresQuery = "SELECT * FROM review_items WHERE TRUE"
        if let model { query.sql += " AND model = $\(query.binds.count + 1)"; query.binds.append(model) }
        if let status { query.sql += " AND status = $\(query.binds.count + 1)"; query.binds.append(status.rawValue) }
        query.sql += " ORDER BY confidence IS NULL, confidence, id LIMIT $\(query.binds.count + 1)"
        query.binds.append(limit)
        return try await database.rows(query).map(Self.reviewItem)
    }

    public func reviewItem(_ id: Int) async throws -> ReviewItem? {
        try await database.rows("SELECT * FROM review_items WHERE id = \(id)").first.map(Self.reviewItem)
    }

    public func decideReview(id: Int, decision: ReviewItem.Decision, label: String?, comment: String, actor: String,
                             time: Double) async throws -> ReviewItem {
        try await database.audited { tx in
            guard let row = try await tx.rows("SELECT * FROM review_items WHERE id = \(id) FOR UPDATE").first else {
                throw RegistryError.notFound("there is no review item \(id)")
            }
            let item = try Self.reviewItem(row)
            let finalLabel = try RegistryRules.decidedLabel(item, id: id, decision: decision, label: label)
            try await tx.execute("""
                UPDATE review_items SET status = 'decided', decision = \(decision.rawValue), label = \(finalLabel), comment = \(comment),
                       decided_by = \(actor), decided_at = \(time) WHERE id = \(id)
                """)
            // As in a folder registry: a queued row the log did not sample is logged now, from the item, and an
            // observed label already given for the row stands.
            if try await tx.rows("SELECT 1 FROM predictions WHERE request_id = \(item.requestID) AND \"row\" = \(item.row) LIMIT 1").isEmpty {
                try await tx.execute("""
                    INSERT INTO predictions (model, version, request_id, "row", "time", inputs, prediction, score, subject)
                    VALUES (\(item.model), \(item.version), \(item.requestID), \(item.row), \(item.createdAt), \(item.inputs), \(item.prediction),
                            \(item.confidence.flatMap(Registry.finite)), NULL)
                    """)
            }
            let source: LabelSource = decision == .confirm ? .reviewConfirm : .reviewOverride
            try await tx.execute("""
                INSERT INTO feedback (request_id, "row", label, "time", source) VALUES (\(item.requestID), \(item.row), \(finalLabel), \(time), \(source.rawValue))
                ON CONFLICT (request_id, "row") DO UPDATE SET label = excluded.label, "time" = excluded."time", source = excluded.source
                WHERE feedback.source != 'observed'
                """)
            try await tx.append(actor: actor, action: "review.decide", subject: "\(item.model)@\(item.version) review \(id)",
                                details: RegistryRules.decisionDetails(item, decision: decision, label: finalLabel, comment: comment))
            var decided = item
            (decided.status, decided.decision, decided.label, decided.comment, decided.decidedBy, decided.decidedAt) = (.decided, decision, finalLabel, comment, actor, time)
            return decided
        }
    }

    static func reviewItem(_ row: PostgresRandomAccessRow) throws -> ReviewItem {
        var item = ReviewItem(model: try row["model"].decode(String.self), version: try row["version"].decode(String.self),
                              requestID: try row["request_id"].decode(String.self), row: try row["row"].decode(Int.self),
                              createdAt: try row["created_at"].decode(Double.self), inputs: try row["inputs"].decode(String.self),
                              prediction: try row["prediction"].decode(String.self), probabilities: try row["probabilities"].decode(String?.self),
                              confidence: try row["confidence"].decode(Double?.self), reasons: try row["reasons"].decode(String.self),
                              flags: try row["flags"].decode(String.self))
        item.id = try row["id"].decode(Int.self)
        item.status = ReviewItem.Status(rawValue: try row["status"].decode(String.self)) ?? .open
        item.decision = try row["decision"].decode(String?.self).flatMap(ReviewItem.Decision.init(rawValue:))
        item.label = try row["label"].decode(String?.self)
        item.comment = try row["comment"].decode(String?.self)
        item.decidedBy = try row["decided_by"].decode(String?.self)
        item.decidedAt = try row["decided_at"].decode(Double?.self)
        return item
    }
}
