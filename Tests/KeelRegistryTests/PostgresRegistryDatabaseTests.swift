import Foundation
import GRDB
import KeelLearn
@testable import KeelRegistry
import Logging
import PostgresNIO
import Testing

/// The registry's database on PostgreSQL: its URL, opening and migrating, the audit table's refusals, a newer
/// schema refused, and bad locations as clear errors. The server is the one `scripts/test` starts
/// (`scripts/test-postgres`, KEEL_TEST_POSTGRES_URL); each test works in a database of its own.
@Suite struct PostgresRegistryDatabaseTests {
    static let serverURL = ProcessInfo.processInfo.environment["KEEL_TEST_POSTGRES_URL"]

    /// Under `scripts/test` (KEEL_REQUIRE_POSTGRES) a missing server fails the run instead of skipping.
    @Test func theTestServerIsThereWhenRequired() {
        if ProcessInfo.processInfo.environment["KEEL_REQUIRE_POSTGRES"] != nil {
            #expect(Self.serverURL != nil, "KEEL_REQUIRE_POSTGRES is set but KEEL_TEST_POSTGRES_URL is not: start one with scripts/test-postgres")
        }
    }

    @Test func urlsReadAsLibpqReadsThem() throws {
        let full = try PostgresLocation(url: "postgresql://ana:s%40cret@db.example:6543/keel?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=2.5&application_name=ci&pool_max=4",
                                        environment: [:])
        #expect(full.host == "db.example" && full.port == 6543 && full.user == "ana" && full.password == "s@cret" && full.database == "keel")
        #expect(full.sslMode == .verifyFull && full.rootCertificate == "/etc/ca.pem" && full.connectTimeout == 2.5)
        #expect(full.applicationName == "ci" && full.poolMax == 4)
        #expect(full.redacted == "postgres://ana@db.example:6543/keel", "never the password")
        let plain = try PostgresLocation(url: "postgres://ana@localhost/keel", environment: ["PGPASSWORD": "from-env"])
        #expect(plain.port == 5432 && plain.sslMode == .prefer && plain.password == "from-env" && plain.poolMax == nil)
        let v6 = try PostgresLocation(url: "postgres://ana@[::1]:5433/keel", environment: [:])
        #expect(v6.host == "::1" && v6.port == 5433 && v6.redacted == "postgres://ana@[::1]:5433/keel")
        #expect(PostgresLocation.redact("postgres://ana:pa/ss@h/db?password=secret") == "postgres://ana:***@h/db")
        #expect(PostgresLocation.isURL("POSTGRES://x@y/z") && !PostgresLocation.isURL("/var/keel") && !PostgresLocation.isURL(".keel"))
        let refusals: [(String, String)] = [
            ("postgres://localhost/keel", "names no user"),
            ("postgres://ana@localhost", "names no database"),
            ("postgres://ana:pw@localhost/keel?sslmode=sometimes", "sslmode takes disable, allow, prefer, require, verify-ca, verify-full, not 'sometimes'"),
            ("postgres://ana:pw@localhost/keel?pool_size=3", "unknown parameter 'pool_size'"),
            ("postgres://ana:pw@localhost/keel?pool_max=0", "pool_max takes a whole number"),
            ("postgres://ana:pw@localhost/keel?connect_timeout=-1", "connect_timeout takes a number of seconds"),
            ("postgres://ana:pw@localhost/keel?connect_timeout=1e16", "at most 86400"),
            ("postgres://ana@localhost/keel?password=secret", "unknown parameter 'password'"),
            ("postgres://ana:pw@localhost/keel?sslrootcert=/ca.pem", "sslrootcert is used only with sslmode=verify-ca or verify-full"),
        ]
        for (url, message) in refusals {
            #expect {
                try PostgresLocation(url: url, environment: [:])
            } throws: { error in
                "\(error)".contains(message) && !"\(error)".contains(":pw@") && !"\(error)".contains("secret")
            }
        }
    }

    @Test(.enabled(if: serverURL != nil)) func openingMigratesOnceEvenWhenTwoOpenAtOnce() async throws {
        let location = try await Self.newDatabase()
        async let first = PostgresRegistryDatabase.open(location, create: true)
        async let second = PostgresRegistryDatabase.open(location, create: true)
        let (a, b) = try await (first, second)
        #expect([a.foundVersion, b.foundVersion].sorted() == [0, PostgresSchema.version], "one migrated, the other found it done")
        #expect(try await a.schemaVersion() == PostgresSchema.version)
        #expect(try await a.texts("SELECT count(*)::text FROM keel_schema") == ["\(PostgresSchema.version)"])
        #expect(try await a.texts("SELECT keel_version FROM keel_schema") == [TrainedModel.keelVersion])
        #expect(try await a.texts("SELECT \"count\"::text || ' ' || hash FROM audit_head") == ["0 " + String(repeating: "0", count: 64)])
        await a.close()
        await b.close()
        let again = try await PostgresRegistryDatabase.open(location, create: false)
        #expect(again.foundVersion == PostgresSchema.version)
        await again.close()
    }

    @Test(.enabled(if: serverURL != nil)) func theDatabaseRefusesToChangeOrRemoveAuditEntries() async throws {
        let database = try await PostgresRegistryDatabase.open(try await Self.newDatabase(), create: true)
        try await database.execute("INSERT INTO audit VALUES (1, '2026-12-05T00:00:00.000Z', 'ci', 'model.register', 'churn v1', '{}', repeat('0', 64), repeat('a', 64))")
        try await database.execute("UPDATE audit_head SET \"count\" = 1, hash = repeat('a', 64)")
        let refused: [(String, String)] = [
            ("UPDATE audit SET actor = 'mallory'", "audit entries are never changed"),
            ("DELETE FROM audit", "audit entries are never deleted"),
            ("TRUNCATE audit", "audit entries are never deleted"),
            ("UPDATE audit_head SET \"count\" = 0, hash = repeat('0', 64)", "the audit head only moves forward"),
            ("DELETE FROM audit_head", "the audit head only moves forward"),
        ]
        for (sql, message) in refused {
            do {
                try await database.execute(sql)
                Issue.record("the database took \(sql)")
            } catch {
                #expect("\(error)".contains(message), "\(sql): \(error)")
            }
        }
        #expect(try await database.texts("SELECT actor FROM audit") == ["ci"])
        try await database.execute("INSERT INTO audit_checkpoints VALUES (1, repeat('a', 64), 'now', 'key', 'signature')")
        do {
            try await database.execute("DELETE FROM audit_checkpoints")
            Issue.record("a checkpoint was deleted")
        } catch { #expect("\(error)".contains("audit_checkpoints entries are never deleted"), "\(error)") }
        await database.close()
    }

    @Test(.enabled(if: serverURL != nil)) func aDatabaseFromANewerKeelIsRefusedNamingBothVersions() async throws {
        let location = try await Self.newDatabase()
        let database = try await PostgresRegistryDatabase.open(location, create: true)
        try await database.execute("INSERT INTO keel_schema (version, name, keel_version) VALUES (\(PostgresSchema.version + 1), 'v-next', '9.9.9')")
        await database.close()
        do {
            _ = try await PostgresRegistryDatabase.open(location, create: false)
            Issue.record("a newer schema was opened")
        } catch {
            let text = "\(error)"
            #expect(text.contains("schema version \(PostgresSchema.version + 1), written by Keel 9.9.9"), "\(text)")
            #expect(text.contains("this Keel \(TrainedModel.keelVersion) reads up to version \(PostgresSchema.version): upgrade Keel"), "\(text)")
        }
    }

    @Test(.enabled(if: serverURL != nil)) func badLocationsAreClearErrorsWithoutThePassword() async throws {
        let server = try PostgresLocation(url: try #require(Self.serverURL))
        let password = try #require(server.password)
        func failure(_ location: PostgresLocation, create: Bool = true) async -> String {
            do {
                let database = try await PostgresRegistryDatabase.open(location, create: create)
                await database.close()
                return "opened"
            } catch {
                return "\(error)"
            }
        }
        var closed = server
        closed.port = try Self.closedPort()
        // The socket's own refusal, from a direct connection: a pool would wait out its circuit breaker and
        // report that instead. (Not timed: under the suite's load the wait for a thread is what a clock measures.)
        let unreachable = await failure(closed)
        #expect(unreachable.contains("cannot reach PostgreSQL at 127.0.0.1:\(closed.port)") && unreachable.contains("refused"), "\(unreachable)")
        var wrong = server
        wrong.password = "not-the-password"
        let denied = await failure(wrong)
        #expect(denied.contains("password authentication failed for user 'keel'"), "\(denied)")
        var missing = server
        missing.database = "no_such_database"
        let absent = await failure(missing)
        #expect(absent.contains("database 'no_such_database' does not exist"), "\(absent)")
        var encrypted = server
        encrypted.sslMode = .require
        let plain = await failure(encrypted)
        #expect(plain.contains("does not offer TLS, and sslmode=require requires it"), "\(plain)")
        let empty = await failure(try await Self.newDatabase(), create: false)
        #expect(empty.contains("no Keel registry in postgres://keel@127.0.0.1:\(server.port)/"), "\(empty)")
        for message in [unreachable, denied, absent, plain, empty] {
            #expect(!message.contains(password), "the password never appears in a message")
        }
    }

    /// SQLite refuses a newer registry as PostgreSQL does: one a later Keel migrated is not read.
    @Test func aFolderFromANewerKeelIsRefusedNamingItsVersion() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-registry-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try Registry(folder: folder)
        let queue = try DatabaseQueue(path: folder + "/registry.sqlite")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
            try db.execute(sql: "UPDATE settings SET value = '9.9.9' WHERE key = 'keel_version'")
        }
        try queue.close()
        #expect {
            try Registry(folder: folder)
        } throws: { error in
            "\(error)".contains("was written by Keel 9.9.9") && "\(error)".contains("this Keel \(TrainedModel.keelVersion) does not know: upgrade Keel")
        }
    }

    /// A new, empty database on the test server, named for this test only.
    static func newDatabase() async throws -> PostgresLocation {
        var location = try PostgresLocation(url: try #require(serverURL))
        let name = "keel_test_" + UUID().uuidString.prefix(8).lowercased()
        var logger = Logger(label: "keel.test")
        logger.logLevel = .critical
        let admin = try await PostgresRegistryDatabase.connect(location, applicationName: "keel-test", logger: logger)
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        try await admin.close()
        location.database = name
        return location
    }

    /// A loopback port nothing listens on.
    static func closedPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
