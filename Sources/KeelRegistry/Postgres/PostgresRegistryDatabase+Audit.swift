import Foundation
import Logging
import PostgresNIO

/// A write transaction that holds the audit chain's head row (`SELECT … FOR UPDATE`), taken first: every
/// other audited writer, in this process or another host, waits for it, so entries appended here follow
/// one another and the chain stays linear. The head row moves with them before the commit.
public struct PostgresAuditedTransaction {
    let connection: PostgresConnection
    let logger: Logger
    public private(set) var head: AuditHead
    var appended = false

    /// Appends an entry after the head, with the same hash a folder registry would give it.
    @discardableResult
    public mutating func append(actor: String, action: String, subject: String, details: [String: String]) async throws -> AuditEntry {
        var entry = AuditEntry(sequence: head.count + 1, at: Registry.timestamp(), actor: actor, action: action, subject: subject,
                               details: AuditLog.canonicalJSON(details), previousHash: head.hash, hash: "")
        entry.hash = entry.expectedHash
        try await connection.query("""
            INSERT INTO audit (sequence, at, actor, action, subject, details, previous_hash, hash)
            VALUES (\(entry.sequence), \(entry.at), \(entry.actor), \(entry.action), \(entry.subject), \(entry.details), \(entry.previousHash), \(entry.hash))
            """, logger: logger)
        head = AuditHead(count: entry.sequence, hash: entry.hash)
        appended = true
        return entry
    }

    /// Runs a statement inside the transaction.
    public func execute(_ query: PostgresQuery) async throws {
        try await connection.query(query, logger: logger)
    }

    /// The rows of a query inside the transaction.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }
}

extension PostgresRegistryDatabase {
    /// Runs `body` in one transaction holding the audit head: what it writes and the entries it appends
    /// commit together or not at all.
    public func audited<T>(_ body: (inout PostgresAuditedTransaction) async throws -> T) async throws -> T {
        try await reading { connection in
            try await Self.transaction(connection, logger: logger) {
                var transaction = PostgresAuditedTransaction(connection: connection, logger: logger, head: try await head(connection, locking: true))
                let result = try await body(&transaction)
                if transaction.appended {
                    try await connection.query("UPDATE audit_head SET \"count\" = \(transaction.head.count), hash = \(transaction.head.hash) WHERE id = 1",
                                               logger: logger)
                }
                return result
            }
        }
    }

    /// Appends one entry in a transaction of its own.
    @discardableResult
    public func appendAudit(actor: String, action: String, subject: String, details: [String: String] = [:]) async throws -> AuditEntry {
        try await audited { try await $0.append(actor: actor, action: action, subject: subject, details: details) }
    }

    /// Every entry, in sequence.
    public func auditEntries() async throws -> [AuditEntry] {
        try await reading { try await Self.entries($0, logger: logger) }
    }

    public func auditHead() async throws -> AuditHead {
        try await reading { try await head($0) }
    }

    /// The chain checked entry by entry, against its head and against every signed checkpoint, as a folder
    /// registry's is; all read in one snapshot, so a writer committing meanwhile does not look like tampering.
    public func verifyAudit() async throws -> AuditVerification {
        let (entries, head, checkpoints) = try await reading { connection in
            try await Self.transaction(connection, logger: logger, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                (try await Self.entries(connection, logger: logger), try await self.head(connection),
                 try await Self.checkpoints(connection, logger: logger))
            }
        }
        return AuditLog.verify(entries, head: head, checkpoints: checkpoints)
    }

    /// The signed checkpoints, oldest first.
    public func checkpoints() async throws -> [AuditCheckpoint] {
        try await reading { try await Self.checkpoints($0, logger: logger) }
    }

    static func checkpoints(_ connection: PostgresConnection, logger: Logger) async throws -> [AuditCheckpoint] {
        var checkpoints: [AuditCheckpoint] = []
        let rows = try await connection.query("SELECT \"count\", hash, at, public_key, signature FROM audit_checkpoints ORDER BY \"count\"",
                                              logger: logger)
        for try await (count, hash, at, key, signature) in rows.decode((Int, String, String, String, String).self) {
            checkpoints.append(AuditCheckpoint(count: count, hash: hash, at: at, publicKey: key, signature: signature))
        }
        return checkpoints
    }

    static func entries(_ connection: PostgresConnection, logger: Logger) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        let rows = try await connection.query("SELECT sequence, at, actor, action, subject, details, previous_hash, hash FROM audit ORDER BY sequence",
                                              logger: logger)
        for try await (sequence, at, actor, action, subject, details, previous, hash) in rows.decode((Int, String, String, String, String, String, String, String).self) {
            entries.append(AuditEntry(sequence: sequence, at: at, actor: actor, action: action, subject: subject,
                                      details: details, previousHash: previous, hash: hash))
        }
        return entries
    }

    /// The chain's length and last hash; `locking` holds the row until the transaction ends.
    func head(_ connection: PostgresConnection, locking: Bool = false) async throws -> AuditHead {
        let rows = try await connection.query(locking ? "SELECT \"count\", hash FROM audit_head WHERE id = 1 FOR UPDATE"
                                                      : "SELECT \"count\", hash FROM audit_head WHERE id = 1", logger: logger).collect()
        guard let row = rows.first else { throw RegistryError.store("\(location.redacted): the audit head row is missing: the database was altered outside Keel") }
        let (count, hash) = try row.decode((Int, String).self)
        return AuditHead(count: count, hash: hash)
    }
}
