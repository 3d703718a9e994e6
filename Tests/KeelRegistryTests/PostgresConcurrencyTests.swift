import Foundation
import KeelArtifact
@testable import KeelRegistry
import KeelTestSupport
import Logging
import PostgresNIO
import Synchronization
import Testing

/// Many clients of one registry on PostgreSQL: fifty tasks at once stay within the pool's connections,
/// writers in separate stores number versions without gaps or repeats, two promotions at once leave one
/// production version, and a connection the server ends mid-transaction leaves nothing half-written.
@Suite struct PostgresConcurrencyTests {
    static let serverURL = PostgresRegistryDatabaseTests.serverURL

    /// Connections to `database` open on the server now (this test's own admin connection is to another database).
    static func connections(to database: String, admin: PostgresConnection) async throws -> Int {
        let rows = try await admin.query("SELECT count(*)::bigint FROM pg_stat_activity WHERE datname = \(database)", logger: quiet).collect()
        return try rows[0].decode(Int.self)
    }

    static var quiet: Logger {
        var logger = Logger(label: "keel.test")
        logger.logLevel = .critical
        return logger
    }

    static func admin() async throws -> PostgresConnection {
        try await PostgresRegistryDatabase.connect(try PostgresLocation(url: try #require(serverURL)), applicationName: "keel-test-admin", logger: quiet)
    }

    @Test(.enabled(if: serverURL != nil)) func fiftyClientsAtOnceStayWithinThePool() async throws {
        var location = try await PostgresRegistryDatabaseTests.newDatabase()
        location.poolMax = 4
        let store = PostgresStore(database: try await PostgresRegistryDatabase.open(location, create: true), cacheFolder: RegistryTests.folder())
        let admin = try await Self.admin()
        let most = Atomic<Int>(0)
        let sampling = Task {
            while !Task.isCancelled {
                let open = (try? await Self.connections(to: location.database, admin: admin)) ?? 0
                _ = most.max(open, ordering: .relaxed)
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<50 {
                group.addTask {
                    _ = try await store.models(named: nil)
                    try await store.audit(actor: "client-\(client)", action: "test.client", subject: "client \(client)", details: [:])
                    try await store.logPredictions([PredictionRecord(model: "m", version: "1", requestID: "r\(client)", row: 0, time: Double(client),
                                                                     inputs: "{}", prediction: "x", score: 0.5, subject: nil)])
                    _ = try await store.predictionLog(model: "m", since: 0)
                }
            }
            try await group.waitForAll()
        }
        sampling.cancel()
        _ = await sampling.value
        #expect(most.load(ordering: .relaxed) <= 4, "pool_max=4, yet \(most.load(ordering: .relaxed)) connections were open")
        #expect(most.load(ordering: .relaxed) >= 1)
        #expect(await store.database.pool.count <= 4)
        let verification = try await store.verifyAudit()
        #expect(verification.problem == nil && verification.entries == 50)
        #expect(try await store.predictionLog(model: "m", since: 0).count == 50)
        try await admin.close()
    }

    @Test(.enabled(if: serverURL != nil)) func writersInSeparateStoresNumberVersionsWithoutGapsAndPromotionsDoNotInterleave() async throws {
        let location = try await PostgresRegistryDatabaseTests.newDatabase()
        var stores: [PostgresStore] = []
        for _ in 0..<4 { stores.append(PostgresStore(database: try await PostgresRegistryDatabase.open(location, create: true), cacheFolder: RegistryTests.folder())) }
        let trained = TrainedChurn.shared
        let versions = try await withThrowingTaskGroup(of: [Int].self) { group in
            for store in stores {
                group.addTask {
                    var mine: [Int] = []
                    for _ in 0..<2 { mine.append(try await TrainedChurn.register(in: store, trained.good).version) }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(versions.sorted() == Array(1...8), "\(versions.sorted())")
        // Two promotions of one name at once: both are serialised; one production version remains.
        let results = await withTaskGroup(of: Bool.self) { group in
            for (index, store) in stores.prefix(2).enumerated() {
                group.addTask {
                    (try? await store.promote(name: "churn", version: index + 1, to: .production, actor: "p\(index)", gates: [], force: false)) != nil
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 2, "both promotions go through, one after the other")
        let production = try await stores[0].models(named: "churn").filter { $0.stage == .production }
        #expect(production.count == 1)
        let moves = try await stores[0].stageEvents(name: "churn").filter { $0.to == .production }
        #expect(moves.count == 2 && production[0].version == moves[1].version, "the later promotion holds production")
        #expect(try await stores[0].verifyAudit().problem == nil)
    }

    /// Passes alone; under the suite's load the statement on the ended connection was seen to wait forever
    /// (postgres-nio 1.33.2 not failing it), which would hang the run: off until a client-side statement
    /// deadline makes such a wait an error. Run it with `swift test --filter aConnectionEnded`.
    @Test(.disabled("a statement on a connection the server ended can wait forever under load; see #30's note"),
          .enabled(if: serverURL != nil), .timeLimit(.minutes(2)))
    func aConnectionEndedMidTransactionLeavesNothingAndTheNextCallReconnects() async throws {
        let location = try await PostgresRegistryDatabaseTests.newDatabase()
        let database = try await PostgresRegistryDatabase.open(location, create: true)
        let store = PostgresStore(database: database, cacheFolder: RegistryTests.folder())
        try await store.audit(actor: "ci", action: "test.before", subject: "s", details: [:])
        let admin = try await Self.admin()
        do {
            // The server ends this very connection while a statement of the transaction runs (a restart, a
            // failover, an administrator), before the commit.
            let killer = Task {
                try await Task.sleep(for: .milliseconds(500))
                _ = try await admin.query("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(location.database) AND query LIKE 'SELECT pg_sleep%'
                    """, logger: Self.quiet).collect()
            }
            try await database.audited { tx in
                try await tx.append(actor: "ci", action: "test.lost", subject: "s", details: [:])
                try await tx.execute("INSERT INTO settings (key, value) VALUES ('half', 'written')")
                try await tx.execute("SELECT pg_sleep(30)")
                try await tx.append(actor: "ci", action: "test.after-kill", subject: "s", details: [:])
            }
            _ = try? await killer.value
            Issue.record("the transaction committed on a connection the server had ended")
        } catch {
            #expect("\(error)".contains("postgres://") && !"\(error)".contains("PSQLError – Generic"), "\(error)")
        }
        // The pool drops the dead connection; the next calls work and see no trace of the lost transaction.
        let entries = try await store.auditEntries()
        #expect(entries.map(\.action) == ["test.before"])
        #expect(try await store.database.rows("SELECT 1 FROM settings WHERE key = 'half'").isEmpty)
        try await store.audit(actor: "ci", action: "test.after", subject: "s", details: [:])
        #expect(try await store.verifyAudit().problem == nil)
        try await admin.close()
    }
}
