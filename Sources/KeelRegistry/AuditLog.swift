import Crypto
import Foundation
import GRDB
import KeelArtifact
import KeelData

/// One audit entry. `hash` is the SHA-256 of the previous entry's hash and this entry's fields, so changing,
/// removing or reordering any entry breaks every hash after it.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var sequence: Int
    public var at: String
    public var actor: String
    public var action: String
    public var subject: String
    /// Details as canonical JSON (sorted keys).
    public var details: String
    public var previousHash: String
    public var hash: String

    /// The hash this entry must have, given its fields and its predecessor's hash.
    public var expectedHash: String {
        let text = [String(sequence), at, actor, action, subject, details, previousHash].joined(separator: "\n")
        return Artifact.hex(SHA256.hash(data: Data(text.utf8)))
    }

    /// The previous hash of the first entry.
    public static let genesisHash = String(repeating: "0", count: 64)

    public init(sequence: Int, at: String, actor: String, action: String, subject: String, details: String, previousHash: String, hash: String) {
        (self.sequence, self.at, self.actor, self.action, self.subject) = (sequence, at, actor, action, subject)
        (self.details, self.previousHash, self.hash) = (details, previousHash, hash)
    }
}

/// The last entry's position and hash, kept in a file beside the database: deleting the newest entries
/// (which leaves a valid shorter chain) no longer matches it.
public struct AuditHead: Codable, Sendable, Equatable {
    public var count: Int
    public var hash: String
}

/// A signed statement that the chain had `count` entries ending in `hash` at `at`.
public struct AuditCheckpoint: Codable, Sendable, Equatable {
    public var count: Int
    public var hash: String
    public var at: String
    /// Base64 of the Ed25519 public key and of the signature over "count\nhash\nat".
    public var publicKey: String
    public var signature: String

    var signedText: Data { Data("\(count)\n\(hash)\n\(at)".utf8) }
}

/// What `verify` found: nil problem means the log is intact.
public struct AuditVerification: Sendable, Equatable {
    public var entries: Int
    public var checkpoints: Int
    /// The first problem, naming the entry where the chain breaks.
    public var problem: String?
    /// The sequence number of the first bad entry, when one entry is to blame.
    public var firstBadEntry: Int?
}

/// The append-only, hash-chained audit log of a registry.
public enum AuditLog {
    static let createSQL = """
        CREATE TABLE audit (
            sequence INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            details TEXT NOT NULL,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit entries are never changed'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit entries are never deleted'); END;
        """

    /// Appends an entry inside the caller's transaction and returns it (the caller updates the head after commit).
    @discardableResult
    static func append(_ db: Database, actor: String, action: String, subject: String, details: [String: String]) throws -> AuditEntry {
        let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1")
        let sequence = (last.map { $0["sequence"] as Int } ?? 0) + 1
        let previous = last.map { $0["hash"] as String } ?? AuditEntry.genesisHash
        var entry = AuditEntry(sequence: sequence, at: Registry.timestamp(), actor: actor, action: action, subject: subject,
                               details: canonicalJSON(details), previousHash: previous, hash: "")
        entry.hash = entry.expectedHash
        try db.execute(sql: "INSERT INTO audit (sequence, at, actor, action, subject, details, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [entry.sequence, entry.at, entry.actor, entry.action, entry.subject, entry.details, entry.previousHash, entry.hash])
        return entry
    }

    static func entries(_ db: Database) throws -> [AuditEntry] {
        try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY rowid").map { row in
            AuditEntry(sequence: row["sequence"], at: row["at"], actor: row["actor"], action: row["action"], subject: row["subject"],
                       details: row["details"], previousHash: row["previous_hash"], hash: row["hash"])
        }
    }

    /// Checks the chain entry by entry, then against the head file and every signed checkpoint.
    static func verify(_ entries: [AuditEntry], head: AuditHead?, checkpoints: [AuditCheckpoint]) -> AuditVerification {
        var result = AuditVerification(entries: entries.count, checkpoints: checkpoints.count)
        var previous = AuditEntry.genesisHash
        for (index, entry) in entries.enumerated() {
            if entry.sequence != index + 1 {
                result.problem = "entry \(index + 1) is missing or out of order (found sequence \(entry.sequence) in its place)"
                result.firstBadEntry = index + 1
                return result
            }
            if entry.previousHash != previous {
                result.problem = "entry \(entry.sequence) does not follow entry \(index): an entry before it was changed, removed or reordered"
                result.firstBadEntry = entry.sequence
                return result
            }
            if entry.expectedHash != entry.hash {
                result.problem = "entry \(entry.sequence) (\(entry.action) \(entry.subject)) was changed after it was written"
                result.firstBadEntry = entry.sequence
                return result
            }
            previous = entry.hash
        }
        if let head {
            if entries.count < head.count {
                result.problem = "the log ends at entry \(entries.count) but the head recorded \(head.count) entries: the newest \(head.count - entries.count) were deleted"
                result.firstBadEntry = entries.count + 1
                return result
            }
            if head.count > 0, entries[head.count - 1].hash != head.hash {
                result.problem = "entry \(head.count) does not match the recorded head: the log was rewritten"
                result.firstBadEntry = head.count
                return result
            }
            if entries.count > head.count {
                result.problem = "entries \(head.count + 1)–\(entries.count) were added without updating the head: they were not written by Keel"
                result.firstBadEntry = head.count + 1
                return result
            }
        } else if !entries.isEmpty {
            result.problem = "the head file is missing, so deletions of the newest entries cannot be ruled out"
            return result
        }
        for checkpoint in checkpoints.sorted(by: { $0.count < $1.count }) {
            guard let key = Data(base64Encoded: checkpoint.publicKey), let signature = Data(base64Encoded: checkpoint.signature),
                  let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key),
                  publicKey.isValidSignature(signature, for: checkpoint.signedText) else {
                result.problem = "the checkpoint at entry \(checkpoint.count) has an invalid signature"
                return result
            }
            guard checkpoint.count <= entries.count, checkpoint.count > 0, entries[checkpoint.count - 1].hash == checkpoint.hash else {
                result.problem = "the signed checkpoint at entry \(checkpoint.count) (\(checkpoint.at)) no longer matches the log"
                result.firstBadEntry = min(checkpoint.count, entries.count + 1)
                return result
            }
        }
        return result
    }

    static func canonicalJSON(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(details)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
