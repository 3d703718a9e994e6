import Crypto
import Foundation
import KeelArtifact

/// A whole registry as data, the same from either backend: every table's rows in order, the audit head and
/// signed checkpoints, the signing key, and the stored files (artefacts and snapshots) by name. `keel
/// registry copy` moves one between backends; `backup` writes it to a file and `restore` reads it back. Rows
/// keep their ids and the audit entries their hashes, so the chain verifies on the other side unchanged.
public struct RegistryDump: Sendable {
    public enum Kind: Sendable { case integer, real, text, boolean }

    public struct Table: Sendable {
        public var name: String
        public var columns: [(name: String, kind: Kind, nullable: Bool)]
        /// The column that orders rows (and, for PostgreSQL, whose identity sequence moves past the copy).
        public var order: String
        public var identity: Bool
    }

    /// One cell: a column's kind decides how it is read and written.
    public enum Cell: Sendable, Equatable, Codable {
        case null, integer(Int), real(Double), text(String), boolean(Bool)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null } else if let value = try? container.decode(Bool.self) { self = .boolean(value) }
            else if let value = try? container.decode(Int.self) { self = .integer(value) }
            else if let value = try? container.decode(Double.self) { self = .real(value) }
            else { self = .text(try container.decode(String.self)) }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .integer(let value): try container.encode(value)
            case .real(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            case .boolean(let value): try container.encode(value)
            }
        }

        /// The cell as a column of `kind` holds it (JSON does not tell 1 from 1.0, nor SQLite a boolean from 1).
        public func coerced(to kind: Kind) -> Cell {
            switch (self, kind) {
            case (.integer(let value), .real): .real(Double(value))
            case (.integer(let value), .boolean): .boolean(value != 0)
            case (.boolean(let value), .integer): .integer(value ? 1 : 0)
            default: self
            }
        }
    }

    /// The tables in an order that satisfies their references.
    public static let tables: [Table] = {
        func t(_ name: String, _ order: String, identity: Bool = false, _ columns: [(String, Kind, Bool)]) -> Table {
            Table(name: name, columns: columns.map { (name: $0.0, kind: $0.1, nullable: $0.2) }, order: order, identity: identity)
        }
        return [
            t("datasets", "fingerprint", [("fingerprint", .text, false), ("name", .text, false), ("source", .text, false), ("rows", .integer, false),
                                          ("columns", .integer, false), ("schema_json", .text, false), ("profile_json", .text, false),
                                          ("snapshot", .text, true), ("created_at", .text, false)]),
            t("runs", "id", identity: true, [("id", .integer, false), ("name", .text, false), ("dataset", .text, false), ("settings_json", .text, false),
                                             ("overrides_json", .text, false), ("seed", .text, false), ("keel_version", .text, false),
                                             ("started_at", .text, false), ("seconds", .real, false), ("status", .text, false),
                                             ("trial_count", .integer, false), ("report_json", .text, false), ("holdout_snapshot", .text, true),
                                             ("actor", .text, false)]),
            t("trials", "run, trial", [("run", .integer, false), ("trial", .integer, false), ("family", .text, false), ("summary", .text, false),
                                       ("mean", .real, true), ("std", .real, true), ("fit_seconds", .real, false), ("status", .text, false),
                                       ("learner_json", .text, false)]),
            t("models", "name, version", [("name", .text, false), ("version", .integer, false), ("artifact", .text, false), ("size", .integer, false),
                                          ("task", .text, false), ("model_kind", .text, false), ("metric", .text, false), ("cv_score", .real, true),
                                          ("holdout_score", .real, true), ("run", .integer, true), ("dataset", .text, true),
                                          ("created_at", .text, false), ("created_by", .text, false), ("stage", .text, false)]),
            t("stage_events", "id", identity: true, [("id", .integer, false), ("name", .text, false), ("version", .integer, false),
                                                     ("from_stage", .text, true), ("to_stage", .text, false), ("actor", .text, false),
                                                     ("at", .text, false), ("reason", .text, false), ("forced", .boolean, false)]),
            t("approvals", "id", identity: true, [("id", .integer, false), ("name", .text, false), ("version", .integer, false),
                                                  ("actor", .text, false), ("comment", .text, false), ("at", .text, false)]),
            t("settings", "key", [("key", .text, false), ("value", .text, false)]),
            t("audit", "sequence", [("sequence", .integer, false), ("at", .text, false), ("actor", .text, false), ("action", .text, false),
                                    ("subject", .text, false), ("details", .text, false), ("previous_hash", .text, false), ("hash", .text, false)]),
            t("predictions", "id", identity: true, [("id", .integer, false), ("model", .text, false), ("version", .text, false),
                                                    ("request_id", .text, false), ("row", .integer, false), ("time", .real, false),
                                                    ("inputs", .text, false), ("prediction", .text, false), ("score", .real, true), ("subject", .text, true)]),
            t("feedback", "request_id, row", [("request_id", .text, false), ("row", .integer, false), ("label", .text, false),
                                              ("time", .real, false), ("source", .text, false)]),
            t("review_items", "id", identity: true, [("id", .integer, false), ("model", .text, false), ("version", .text, false),
                                                     ("request_id", .text, false), ("row", .integer, false), ("created_at", .real, false),
                                                     ("inputs", .text, false), ("prediction", .text, false), ("probabilities", .text, true),
                                                     ("confidence", .real, true), ("reasons", .text, false), ("flags", .text, false),
                                                     ("status", .text, false), ("decision", .text, true), ("label", .text, true),
                                                     ("comment", .text, true), ("decided_by", .text, true), ("decided_at", .real, true)]),
        ]
    }()

    /// Settings that belong to the registry holding them, never copied: the Keel version that last migrated
    /// it, and the signing key (carried apart, in `signingKey`).
    static let ownSettings: Set<String> = ["keel_version", "signing.key", "signing.pub"]

    /// Rows per table name.
    public var rows: [String: [[Cell]]] = [:]
    public var head: AuditHead
    public var checkpoints: [AuditCheckpoint]
    /// The registry's signing key (base64), if it has one: a copy signs and serves as the original did.
    public var signingKey: String?
    /// Stored files by name (`<sha256>.keel`, `<fingerprint>.snap`), each with its SHA-256.
    public var files: [String: String]
    /// The registry's configuration files by name (`keel.yaml`): a folder's file, a database's row.
    public var configurationFiles: [String: [UInt8]] = [:]

    public var entryCount: Int { rows["audit"]?.count ?? 0 }

    public init(rows: [String: [[Cell]]], head: AuditHead, checkpoints: [AuditCheckpoint], signingKey: String?, files: [String: String]) {
        (self.rows, self.head, self.checkpoints, self.signingKey, self.files) = (rows, head, checkpoints, signingKey, files)
    }

    /// What a registry holds, in words: "3 models, 12 runs, 40 audit entries, 9 files".
    public var summary: String {
        let count = { (table: String) in self.rows[table]?.count ?? 0 }
        return "\(count("models")) model versions, \(count("runs")) runs, \(count("datasets")) datasets, \(count("audit")) audit entries, "
            + "\(count("predictions")) logged predictions, \(count("review_items")) review items, \(files.count) stored files"
    }
}

/// What a backend does to be copied, backed up and restored. Files are read one at a time, so a copy never
/// holds every artefact in memory at once.
public protocol RegistryDumping: RegistryStore {
    /// Every table, the head, checkpoints, signing key and the names of the stored files.
    func dump() async throws -> RegistryDump
    /// One stored file's bytes, checked against its checksum.
    func storedFile(_ name: String) async throws -> [UInt8]
    /// Loads `dump` into this registry, which must hold nothing yet; `file` gives each stored file's bytes.
    func load(_ dump: RegistryDump, file: (String) async throws -> [UInt8]) async throws
}

extension RegistryDumping {
    /// Whether the registry holds no audit entry yet (nothing has happened in it).
    func isEmpty() async throws -> Bool { try await auditEntries().isEmpty }
}

enum RegistryDumpRules {
    /// A stored file's bytes checked against the checksum the dump recorded.
    static func checked(_ bytes: [UInt8], name: String, expected: String?, source: String) throws -> [UInt8] {
        guard let expected else { throw RegistryError.invalid("\(source) has no record of the file \(name)") }
        guard Artifact.hex(SHA256.hash(data: bytes)) == expected else {
            throw RegistryError.invalid("the file \(name) from \(source) fails its checksum: the copy is damaged; nothing was written")
        }
        return bytes
    }
}
