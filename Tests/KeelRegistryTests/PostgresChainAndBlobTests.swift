import Foundation
@testable import KeelRegistry
import KeelData
import PostgresNIO
import Testing

/// The audit chain and the stored files of a registry on PostgreSQL: eight writers at once leave one linear,
/// verifiable chain; a failed transaction leaves nothing; files come back byte for byte, and a damaged or
/// incomplete copy is an error naming the chunk.
@Suite struct PostgresChainAndBlobTests {
    static let serverURL = PostgresRegistryDatabaseTests.serverURL

    @Test(.enabled(if: serverURL != nil)) func eightWritersAtOnceLeaveOneLinearChain() async throws {
        let location = try await PostgresRegistryDatabaseTests.newDatabase()
        var writers: [PostgresRegistryDatabase] = []
        for _ in 0..<8 { writers.append(try await PostgresRegistryDatabase.open(location, create: true)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, writer) in writers.enumerated() {
                group.addTask {
                    for entry in 0..<25 {
                        try await writer.appendAudit(actor: "writer-\(index)", action: "test.append", subject: "entry \(entry)", details: ["writer": "\(index)"])
                    }
                }
            }
            try await group.waitForAll()
        }
        let reader = writers[0]
        let entries = try await reader.auditEntries()
        #expect(entries.map(\.sequence) == Array(1...200))
        #expect(Set(entries.map(\.actor)).count == 8, "every writer got entries in")
        #expect(try await reader.auditHead() == AuditHead(count: 200, hash: entries.last!.hash))
        let verification = try await reader.verifyAudit()
        #expect(verification.problem == nil && verification.entries == 200, "\(verification.problem ?? "")")
        for writer in writers { await writer.close() }
    }

    @Test(.enabled(if: serverURL != nil)) func aFailedTransactionLeavesNeitherItsChangeNorItsEntry() async throws {
        let database = try await PostgresRegistryDatabase.open(try await PostgresRegistryDatabaseTests.newDatabase(), create: true)
        try await database.appendAudit(actor: "ci", action: "model.register", subject: "churn v1")
        struct Refused: Error {}
        do {
            try await database.audited { transaction in
                try await transaction.execute("INSERT INTO settings (key, value) VALUES ('config:keel.yaml', 'abc')")
                try await transaction.append(actor: "ci", action: "config.change", subject: "keel.yaml", details: [:])
                throw Refused()
            }
            Issue.record("the transaction went through")
        } catch is Refused {}
        #expect(try await database.auditEntries().count == 1)
        #expect(try await database.auditHead().count == 1)
        #expect(try await database.texts("SELECT value FROM settings WHERE key = 'config:keel.yaml'").isEmpty)
        #expect(try await database.verifyAudit().problem == nil)
        await database.close()
    }

    /// Deleting the newest entries leaves a valid shorter chain; the head (which only moves forward) says so.
    @Test(.enabled(if: serverURL != nil)) func entriesRemovedBehindKeelsBackAreFound() async throws {
        let database = try await PostgresRegistryDatabase.open(try await PostgresRegistryDatabaseTests.newDatabase(), create: true)
        for index in 1...3 { try await database.appendAudit(actor: "ci", action: "test.append", subject: "entry \(index)") }
        try await database.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_change")
        try await database.execute("DELETE FROM audit WHERE sequence = 3")
        let removed = try await database.verifyAudit()
        #expect(removed.problem?.contains("the newest 1 were deleted") == true, "\(removed.problem ?? "intact")")
        try await database.execute("UPDATE audit SET actor = 'mallory' WHERE sequence = 1")
        let changed = try await database.verifyAudit()
        #expect(changed.firstBadEntry == 1 && changed.problem?.contains("was changed after it was written") == true, "\(changed.problem ?? "intact")")
        await database.close()
    }

    @Test(.enabled(if: serverURL != nil)) func storedFilesComeBackWholeAndDamageIsNamed() async throws {
        let database = try await PostgresRegistryDatabase.open(try await PostgresRegistryDatabaseTests.newDatabase(), create: true)
        var generator = SeededGenerator(seed: 30)
        let bytes = (0..<(2 * PostgresRegistryDatabase.chunkSize + 12_345)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        try await database.putBlob("model.keel", kind: .artifact, bytes: bytes)
        try await database.putBlob("model.keel", kind: .artifact, bytes: bytes)
        #expect(try await database.blob("model.keel") == bytes, "three chunks, in order")
        #expect(try await database.texts("SELECT count(*)::text FROM blob_chunks") == ["3"], "a second store of the same file adds nothing")
        try await database.putBlob("empty.snap", kind: .snapshot, bytes: [])
        #expect(try await database.blob("empty.snap") == [])
        await #expect(throws: RegistryError.self) { try await database.putBlob("model.keel", kind: .artifact, bytes: [1, 2, 3]) }
        await #expect(throws: RegistryError.self) { try await database.blob("other.keel") }
        func failure() async -> String {
            do { _ = try await database.blob("model.keel"); return "read" } catch { return "\(error)" }
        }
        try await database.execute("UPDATE blob_chunks SET data = overlay(data PLACING '\\x00ff'::bytea FROM 10) WHERE idx = 1")
        let damaged = await failure()
        #expect(damaged.contains("the model file model.keel in postgres://") && damaged.contains("fails its checksum at chunk 1 of 3"), "\(damaged)")
        try await database.execute("DELETE FROM blob_chunks WHERE idx = 1")
        let missing = await failure()
        #expect(missing.contains("is incomplete: chunk 1 of 3 is missing"), "\(missing)")
        await database.close()
    }
}
