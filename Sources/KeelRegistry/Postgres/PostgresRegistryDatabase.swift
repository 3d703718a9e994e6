import Foundation
import KeelLearn
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// A registry database on PostgreSQL, opened and brought to this Keel's schema: one connection, made
/// directly (a pool would wait out its circuit breaker on an unreachable server instead of failing at once).
/// Opening migrates under an advisory lock, so two first runs against an empty database do not both create
/// the tables, and refuses a database a newer Keel has migrated, naming both versions.
public final class PostgresRegistryDatabase: Sendable {
    public let location: PostgresLocation
    /// The schema version the database had before this open migrated it (0: a new registry).
    public let foundVersion: Int
    let connection: PostgresConnection
    let logger: Logger
    /// One connection carries one transaction at a time: calls from concurrent tasks take turns.
    let gate = AsyncGate()

    /// The key of the session lock that serialises migrations (any constant shared by every Keel).
    static let migrationLock: Int64 = 0x4B45_454C_5245_4731

    private init(location: PostgresLocation, foundVersion: Int, connection: PostgresConnection, logger: Logger) {
        (self.location, self.foundVersion, self.connection, self.logger) = (location, foundVersion, connection, logger)
    }

    /// Connects and migrates. Without `create`, a database holding no registry is an error (a mistyped URL
    /// must not become a new, empty registry).
    public static func open(_ location: PostgresLocation, create: Bool, applicationName: String = "keel") async throws -> PostgresRegistryDatabase {
        var logger = Logger(label: "keel.registry.postgres")
        logger.logLevel = .critical
        let connection = try await connect(location, applicationName: applicationName, logger: logger)
        do {
            let found = try await migrate(connection, location: location, create: create, logger: logger)
            return PostgresRegistryDatabase(location: location, foundVersion: found, connection: connection, logger: logger)
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
        try? await connection.close()
    }

    /// The schema version the database has now.
    public func schemaVersion() async throws -> Int {
        try await Self.version(connection, logger: logger).version
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

    /// The rows of one query, by column name.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await reading { try await $0.query(query, logger: logger).collect().map { $0.makeRandomAccess() } }
    }

    /// `body` in one transaction that appends no audit entry (the prediction log, feedback, the review queue).
    func unaudited<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await reading { connection in try await Self.transaction(connection, logger: logger) { try await body(connection) } }
    }

    /// `body` on the connection, its turn taken, its errors naming the registry.
    func reading<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await serially {
            do {
                return try await body(connection)
            } catch {
                throw PostgresErrors.registryError(error, location: location)
            }
        }
    }

    func serially<T>(_ body: () async throws -> T) async throws -> T {
        await gate.enter()
        do {
            let result = try await body()
            await gate.leave()
            return result
        } catch {
            await gate.leave()
            throw error
        }
    }

    static func connect(_ location: PostgresLocation, applicationName: String, logger: Logger) async throws -> PostgresConnection {
        do {
            var configuration = PostgresConnection.Configuration(
                host: location.host, port: location.port, username: location.user, password: location.password,
                database: location.database, tls: try tls(location))
            configuration.options.connectTimeout = .milliseconds(max(1, Int64(location.connectTimeout * 1000)))
            configuration.options.additionalStartupParameters = [("application_name", location.applicationName ?? applicationName)]
            return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw PostgresErrors.registryError(error, location: location)
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

/// A first-come, first-served turn for async callers (an actor alone lets calls interleave at every await).
actor AsyncGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the turn to the next waiter, or frees it.
    func leave() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
