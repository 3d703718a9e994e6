import Crypto
import Foundation
import GRDB
import KeelArtifact
import KeelData
import KeelLearn

/// The embedded registry of a Keel home folder: `registry.sqlite` (SQLite in WAL mode, so a server can read
/// while a training run writes), content-addressed artefacts under `artifacts/`, data snapshots under
/// `snapshots/`, and the audit head and checkpoints beside them.
///
/// Every change and its audit entry are written in one transaction, so the log never misses an action.
public final class Registry: Sendable {
    public let folder: String
    let pool: DatabasePool

    public var artifactsFolder: String { folder + "/artifacts" }
    public var snapshotsFolder: String { folder + "/snapshots" }
    var headPath: String { folder + "/audit-head.json" }
    var checkpointsFolder: String { folder + "/audit-checkpoints" }

    /// The registry folder: an explicit `--registry`, else `$KEEL_HOME`, else `./.keel`.
    public static func folder(explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let home = ProcessInfo.processInfo.environment["KEEL_HOME"], !home.isEmpty { return home }
        return ".keel"
    }

    /// Whether a registry exists at `folder` (commands that only read never create one).
    public static func exists(at folder: String) -> Bool {
        FileManager.default.fileExists(atPath: folder + "/registry.sqlite")
    }

    /// Opens the registry at `folder`, creating it (and migrating an older layout) when `create` is set.
    public init(folder: String, create: Bool = true) throws {
        self.folder = folder
        let manager = FileManager.default
        if !Registry.exists(at: folder) && !create {
            throw RegistryError.notFound("no registry at \(folder) (train a model first, or name one with --registry or KEEL_HOME)")
        }
        do {
            for path in [folder, folder + "/artifacts", folder + "/snapshots", folder + "/audit-checkpoints"] {
                try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(30)
            configuration.foreignKeysEnabled = true
            pool = try DatabasePool(path: folder + "/registry.sqlite", configuration: configuration)
            try Registry.migrate(pool, folder: folder)
        } catch let error as RegistryError {
            throw error
        } catch let error as DatabaseError {
            throw RegistryError.store("cannot open the registry at \(folder): \(error.message ?? error.description)")
        } catch {
            throw RegistryError.store("cannot create the registry at \(folder): \((error as NSError).localizedDescription)")
        }
    }

    /// Applies the migrations this Keel knows and has not applied, recording its version when it applied any;
    /// refuses a database a newer Keel has migrated (it may hold what this one would misread), naming both.
    static func migrate(_ pool: DatabasePool, folder: String) throws {
        let (superseded, applied, writer) = try pool.read { db in
            (try migrator.hasBeenSuperseded(db), try migrator.appliedIdentifiers(db),
             try db.tableExists("settings") ? try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'keel_version'") : nil)
        }
        if superseded {
            throw RegistryError.store("the registry at \(folder) was written by Keel \(writer ?? "(a later version)"), whose schema this Keel \(TrainedModel.keelVersion) does not know: upgrade Keel")
        }
        try migrator.migrate(pool)
        if applied.count < migrator.migrations.count {
            try pool.write { db in
                try db.execute(sql: "INSERT INTO settings (key, value) VALUES ('keel_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               arguments: [TrainedModel.keelVersion])
            }
        }
    }

    /// Versioned schema changes; each runs once, in order, and is recorded in the database.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE datasets (
                    fingerprint TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    source TEXT NOT NULL,
                    rows INTEGER NOT NULL,
                    columns INTEGER NOT NULL,
                    schema_json TEXT NOT NULL,
                    profile_json TEXT NOT NULL,
                    snapshot TEXT,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    dataset TEXT NOT NULL REFERENCES datasets(fingerprint),
                    settings_json TEXT NOT NULL,
                    overrides_json TEXT NOT NULL,
                    seed TEXT NOT NULL,
                    keel_version TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    seconds REAL NOT NULL,
                    status TEXT NOT NULL,
                    trial_count INTEGER NOT NULL,
                    report_json TEXT NOT NULL,
                    holdout_snapshot TEXT,
                    actor TEXT NOT NULL
                );
                CREATE TABLE trials (
                    run INTEGER NOT NULL REFERENCES runs(id),
                    trial INTEGER NOT NULL,
                    family TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    mean REAL,
                    std REAL,
                    fit_seconds REAL NOT NULL,
                    status TEXT NOT NULL,
                    learner_json TEXT NOT NULL,
                    PRIMARY KEY (run, trial)
                );
                CREATE TABLE models (
                    name TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    artifact TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    task TEXT NOT NULL,
                    model_kind TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    cv_score REAL,
                    holdout_score REAL,
                    run INTEGER REFERENCES runs(id),
                    dataset TEXT REFERENCES datasets(fingerprint),
                    created_at TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    PRIMARY KEY (name, version)
                );
                CREATE TABLE stage_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    from_stage TEXT,
                    to_stage TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    at TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    forced INTEGER NOT NULL,
                    FOREIGN KEY (name, version) REFERENCES models(name, version)
                );
                CREATE TABLE approvals (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    comment TEXT NOT NULL,
                    at TEXT NOT NULL,
                    FOREIGN KEY (name, version) REFERENCES models(name, version)
                );
                CREATE INDEX stage_events_by_model ON stage_events(name, id);
                CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
            try db.execute(sql: AuditLog.createSQL)
        }
        migrator.registerMigration("v2-prediction-log") { db in try createPredictionLog(db) }
        migrator.registerMigration("v3-review-queue") { db in try createReviewQueue(db) }
        return migrator
    }

    /// UTC time with milliseconds, sortable as text.
    static func timestamp() -> String { timestampFormatter.string(from: Date()) }

    /// A registry timestamp (`createdAt`, `at`) as a date.
    public static func date(_ timestamp: String) -> Date? { timestampFormatter.date(from: timestamp) }

    private static var timestampFormatter: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }

    /// The user running the command: the default actor of every audited action.
    public static var currentUser: String {
        let environment = ProcessInfo.processInfo.environment
        if let name = environment["KEEL_ACTOR"] ?? environment["USER"] ?? environment["LOGNAME"], !name.isEmpty { return name }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    /// SQLite has no NaN: a score that is not a number is stored as NULL.
    static func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }

    static func sha256(_ bytes: [UInt8]) -> String {
        Artifact.hex(SHA256.hash(data: bytes))
    }

    /// Runs `body` in one write transaction, appends its audit entries there, and moves the head file with
    /// it (the database's write lock serialises heads across processes). Writes that append no audit entry
    /// (the prediction log, feedback) pass `audited: false` and leave the head file alone.
    func write<T>(audited: Bool = true, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write { db in
                let result = try body(db)
                if audited { try writeHead(db) }
                return result
            }
        } catch let error as DatabaseError {
            throw RegistryError.store("the registry at \(folder) refused the change: \(error.message ?? error.description)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as DatabaseError {
            throw RegistryError.store("cannot read the registry at \(folder): \(error.message ?? error.description)")
        }
    }

    private func writeHead(_ db: Database) throws {
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0
        let hash = try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY sequence DESC LIMIT 1") ?? AuditEntry.genesisHash
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(AuditHead(count: count, hash: hash))), to: headPath)
    }

    func setting(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
    }

    func setSetting(_ db: Database, _ key: String, _ value: String) throws {
        try db.execute(sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       arguments: [key, value])
    }
}
