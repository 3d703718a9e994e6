import Foundation
import KeelLearn
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// A registry database on PostgreSQL, opened and brought to this Keel's schema. Connections are made
/// directly (a pooled client would wait out its circuit breaker on an unreachable server instead of failing at
/// once) and kept in a small pool of at most `pool_max` (default 4): however many tasks call at once, the
/// process holds no more connections than that, and a connection the server dropped is replaced.
/// Opening migrates under an advisory lock, so two first runs against an empty database do not both create
/// the tables, and refuses a database a newer Keel has migrated, naming both versions.
public final class PostgresRegistryDatabase: Sendable {
    public let location: PostgresLocation
    /// The schema version the database had before this open migrated it (0: a new registry).
    public let foundVersion: Int
    let pool: PostgresConnectionPool
    let logger: Logger

    /// Connections a process keeps to one registry unless the URL's `pool_max` says otherwise.
    public static let defaultPoolSize = 4

    /// The key of the session lock that serialises migrations (any constant shared by every Keel).
    static let migrationLock: Int64 = 0x4B45_454C_5245_4731

    private init(location: PostgresLocation, foundVersion: Int, pool: PostgresConnectionPool, logger: Logger) {
        (self.location, self.foundVersion, self.pool, self.logger) = (location, foundVersion, pool, logger)
    }

    /// Connects and migrates. Without `create`, a database holding no registry is an error (a mistyped URL
    /// must not become a new, empty registry).
    public static func open(_ location: PostgresLocation, create: Bool, applicationName: String = "keel") async throws -> PostgresRegistryDatabase {
        var logger = Logger(label: "keel.registry.postgres")
        logger.logLevel = .critical
        let connection = try await connect(location, applicationName: applicationName, logger: logger)
        do {
            let found = try await migrate(connection, location: location, create: create, logger: logger)
            let quiet = logger
            let pool = PostgresConnectionPool(first: connection, maximum: location.poolMax ?? defaultPoolSize) {
                try await connect(location, applicationName: applicationName, logger: quiet)
            }
            return PostgresRegistryDatabase(location: location, foundVersion: found, pool: pool, logger: logger)
        } catch {
            try? await connection.close()
            throw PostgresErrors.registryError(error, location: location)
        }
    }

    /// Creates the database `name` on the server `server` names (its own database is only used to connect);
    /// returns the location of the new one. For tests and `keel registry copy` into a new database.
    public static func createDatabase(_ name: String, on server: PostgresLocation) async throws -> PostgresLocation {
        guard name.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
            throw RegistryError.invalid("'\(name)' is not a database name Keel creates: lower-case letters, digits and _")
        }
        var logger = Logger(label: "keel.registry.postgres")
        logger.logLevel = .critical
        let admin = try await connect(server, applicationName: "keel", logger: logger)
        do {
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        } catch {
            try? await admin.close()
            throw PostgresErrors.registryError(error, location: server)
        }
        try? await admin.close()
        var location = server
        location.database = name
        return location
    }

    public func close() async {
        await pool.close()
    }

    /// A database let go without `close()` still gives its connections back to the server.
    deinit {
        let pool = self.pool
        Task { await pool.close() }
    }

    /// The schema version the database has now.
    public func schemaVersion() async throws -> Int {
        try await reading { try await Self.version($0, logger: logger).version }
    }

    /// Runs one statement with no parameters; errors name the registry. For Keel's own fixed SQL (and tests).
    public func execute(_ sql: String) async throws {
        try await reading { _ = try await $0.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
    }

    /// The first column of each row of a statement with no parameters, as text.
    public func texts(_ sql: String) async throws -> [String?] {
        try await reading { connection in
            var values: [String?] = []
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String?.self) {
                values.append(value)
            }
            return values
        }
    }

    /// The rows of one query, by column name. A read is asked once more on a new connection when the server
    /// dropped the one it went out on (a restart, a failover, an idle connection ended).
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await reading(retryingLostConnection: true) { try await $0.query(query, logger: logger).collect().map { $0.makeRandomAccess() } }
    }

    /// `body` in one transaction that appends no audit entry (the prediction log, feedback, the review queue).
    func unaudited<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await reading { connection in try await Self.transaction(connection, logger: logger) { try await body(connection) } }
    }

    /// `body` on a connection of the pool, held for it alone, its errors naming the registry.
    /// `retryingLostConnection`: a read is run once more, on another connection, when the server dropped this one.
    func reading<T>(retryingLostConnection: Bool = false, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection: PostgresConnection
        do {
            connection = try await pool.acquire()
        } catch {
            throw PostgresErrors.registryError(error, location: location)
        }
        do {
            let result = try await body(connection)
            await pool.release(connection)
            return result
        } catch {
            await pool.release(connection)
            if retryingLostConnection, PostgresErrors.isConnectionLost(error) { return try await reading(body) }
            throw PostgresErrors.registryError(error, location: location)
        }
    }

    /// A server with no free connection (SQLSTATE 53300) is asked again, with growing pauses, for up to this
    /// long: many clients starting at once take turns instead of failing.
    static let busyServerPatience: Double = 30

    static func connect(_ location: PostgresLocation, applicationName: String, logger: Logger) async throws -> PostgresConnection {
        var pause = 0.05
        let started = ContinuousClock.now
        while true {
            do {
                var configuration = PostgresConnection.Configuration(
                    host: location.host, port: location.port, username: location.user, password: location.password,
                    database: location.database, tls: try tls(location))
                configuration.options.connectTimeout = .milliseconds(max(1, Int64(location.connectTimeout * 1000)))
                configuration.options.additionalStartupParameters = [("application_name", location.applicationName ?? applicationName)]
                return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "53300"
                        && (ContinuousClock.now - started) < .milliseconds(Int64(busyServerPatience * 1000)) {
                try await Task.sleep(for: .milliseconds(Int64(pause * 1000 * Double.random(in: 0.5...1.5))))
                pause = min(pause * 2, 2)
            } catch {
                throw PostgresErrors.registryError(error, location: location)
            }
        }
    }

    /// libpq's sslmode as TLS settings: prefer and require encrypt without checking the certificate (as libpq
    /// does), verify-ca checks the chain, verify-full the host name too. `allow` is taken as `prefer`.
    static func tls(_ location: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch location.sslMode {
        case .disable: return .disable
        case .allow, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let root = location.rootCertificate {
            guard FileManager.default.isReadableFile(atPath: root) else {
                throw RegistryError.invalid("\(location.redacted): sslrootcert \(root) cannot be read")
            }
            configuration.trustRoots = .file(root)
        }
        let context = try NIOSSLContext(configuration: configuration)
        return [.allow, .prefer].contains(location.sslMode) ? .prefer(context) : .require(context)
    }

    /// Brings the database to `PostgresSchema.version`, each migration in its own transaction; returns the
    /// version found.
    static func migrate(_ connection: PostgresConnection, location: PostgresLocation, create: Bool, logger: Logger) async throws -> Int {
        let exists = try await connection.query("SELECT to_regclass('keel_schema') IS NOT NULL", logger: logger).collect()
        if try exists.first?.decode(Bool.self) != true, !create {
            throw RegistryError.notFound("no Keel registry in \(location.redacted) (train a model with --registry pointing there first, or check the URL)")
        }
        try await connection.query("SELECT pg_advisory_lock(\(migrationLock))", logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.versionTable), logger: logger)
            let (found, writer) = try await version(connection, logger: logger)
            if found > PostgresSchema.version {
                throw RegistryError.store("""
                    the registry at \(location.redacted) has schema version \(found), written by Keel \(writer ?? "(unknown)"); \
                    this Keel \(TrainedModel.keelVersion) reads up to version \(PostgresSchema.version): upgrade Keel
                    """)
            }
            for (index, migration) in PostgresSchema.migrations.enumerated().dropFirst(found) {
                try await transaction(connection, logger: logger) {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("""
                        INSERT INTO keel_schema (version, name, keel_version) VALUES (\(index + 1), \(migration.name), \(TrainedModel.keelVersion))
                        """, logger: logger)
                }
            }
            try await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
            return found
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
            throw error
        }
    }

    static func version(_ connection: PostgresConnection, logger: Logger) async throws -> (version: Int, writer: String?) {
        let rows = try await connection.query("SELECT version, keel_version FROM keel_schema ORDER BY version DESC LIMIT 1", logger: logger).collect()
        guard let row = rows.first else { return (0, nil) }
        let (version, writer) = try row.decode((Int, String).self)
        return (version, writer)
    }

    /// Runs `body` between `begin` and COMMIT, rolling back when it throws.
    static func transaction<T>(_ connection: PostgresConnection, logger: Logger, begin: PostgresQuery = "BEGIN",
                               _ body: () async throws -> T) async throws -> T {
        try await connection.query(begin, logger: logger)
        do {
            let result = try await body()
            try await connection.query("COMMIT", logger: logger)
            return result
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}

/// At most `maximum` connections, handed to one caller at a time; callers beyond them wait their turn, first
/// come first served. A connection found closed (the server ended it, or the network did) is dropped and its
/// place freed, so the next caller gets a new one.
actor PostgresConnectionPool {
    let maximum: Int
    private let make: @Sendable () async throws -> PostgresConnection
    private var idle: [PostgresConnection]
    private var open: Int
    /// Waiters get a connection, or nil: a place was freed and kept for them (counted in `open`), and they
    /// make its connection.
    private var waiting: [CheckedContinuation<PostgresConnection?, Never>] = []

    init(first: PostgresConnection, maximum: Int, make: @escaping @Sendable () async throws -> PostgresConnection) {
        (self.idle, self.open, self.maximum, self.make) = ([first], 1, max(1, maximum), make)
    }

    /// How many connections are open now.
    var count: Int { open }

    func acquire() async throws -> PostgresConnection {
        while let connection = idle.popLast() {
            if !connection.isClosed { return connection }
            open -= 1
        }
        if open < maximum {
            open += 1
        } else if let handed = await withCheckedContinuation({ waiting.append($0) }) {
            return handed
        }
        do {
            return try await make()
        } catch {
            freePlace()
            throw error
        }
    }

    /// A place without a connection: the next waiter's, else nobody's.
    private func freePlace() {
        if waiting.isEmpty { open -= 1 } else { waiting.removeFirst().resume(returning: nil) }
    }

    func release(_ connection: PostgresConnection) {
        if connection.isClosed {
            freePlace()
        } else if !waiting.isEmpty {
            waiting.removeFirst().resume(returning: connection)
        } else {
            idle.append(connection)
        }
    }

    func close() async {
        let all = idle
        idle = []
        for connection in all { try? await connection.close() }
    }
}
