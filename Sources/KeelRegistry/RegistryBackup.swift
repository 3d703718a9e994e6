import Foundation
import KeelArtifact
import KeelData
import KeelLearn

/// A registry backup file, the same for either backend: the magic line, every stored file's bytes one after
/// another, then a JSON manifest (tables, audit head, checkpoints, signing key, and each file's offset, size
/// and SHA-256), its length and a closing magic. Files are streamed in and read back one at a time; the
/// file is written to a temporary name and renamed when whole, so a failed backup leaves nothing.
public enum RegistryBackup {
    static let magic = Array("KEEL-REGISTRY-BACKUP 1\n".utf8)
    static let closing = Array("KEEL-REGISTRY-BACKUP-END\n".utf8)
    public static let formatVersion = 1

    struct Manifest: Codable {
        struct File: Codable {
            var name: String
            var sha256: String
            var offset: Int
            var size: Int
        }

        var format = "keel-registry-backup"
        var formatVersion = RegistryBackup.formatVersion
        var keelVersion = TrainedModel.keelVersion
        var createdAt: String
        var source: String
        var rows: [String: [[RegistryDump.Cell]]]
        var head: AuditHead
        var checkpoints: [AuditCheckpoint]
        var signingKey: String?
        var files: [File]
        var configurationFiles: [String: Data]?
    }

    /// Writes `store`'s registry to `path`; returns what it holds.
    @discardableResult
    public static func write(_ store: any RegistryDumping, to path: String) async throws -> RegistryDump {
        let dump = try await store.dump()
        let writer = try AtomicFileWriter(path: path)
        try writer.append(magic)
        var offset = magic.count
        var files: [Manifest.File] = []
        for (name, sha) in dump.files.sorted(by: { $0.key < $1.key }) {
            let bytes = try RegistryDumpRules.checked(try await store.storedFile(name), name: name, expected: sha, source: store.location)
            try writer.append(bytes)
            files.append(Manifest.File(name: name, sha256: sha, offset: offset, size: bytes.count))
            offset += bytes.count
        }
        let manifest = Manifest(createdAt: Registry.timestamp(), source: store.location, rows: dump.rows, head: dump.head,
                                checkpoints: dump.checkpoints, signingKey: dump.signingKey, files: files,
                                configurationFiles: dump.configurationFiles.mapValues { Data($0) })
        let json = Array(try Artifact.payloadEncoder().encode(manifest))
        try writer.append(json)
        var length = UInt64(json.count).littleEndian
        try writer.append(withUnsafeBytes(of: &length) { Array($0) })
        try writer.append(closing)
        try writer.commit()
        return dump
    }

    /// Restores the backup at `path` into `store`, which must be empty; every file is checked on the way.
    @discardableResult
    public static func restore(_ path: String, into store: any RegistryDumping) async throws -> RegistryDump {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw RegistryError.notFound("cannot open the backup \(path)") }
        defer { try? handle.close() }
        func read(_ offset: UInt64, _ count: Int) throws -> [UInt8] {
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw RegistryError.invalid("the backup \(path) is truncated") }
            return Array(data)
        }
        let size = try handle.seekToEnd()
        let tail = closing.count + 8
        guard size >= UInt64(magic.count + tail), try read(0, magic.count) == magic else {
            throw RegistryError.invalid("\(path) is not a Keel registry backup")
        }
        guard try read(size - UInt64(closing.count), closing.count) == closing else {
            throw RegistryError.invalid("the backup \(path) is truncated: its closing mark is missing")
        }
        let length = try read(size - UInt64(tail), 8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard length > 0, UInt64(length) <= size - UInt64(tail) - UInt64(magic.count) else {
            throw RegistryError.invalid("the backup \(path) is damaged: its manifest length is \(length)")
        }
        let manifest: Manifest
        do {
            manifest = try Artifact.payloadDecoder().decode(Manifest.self, from: Data(try read(size - UInt64(tail) - UInt64(length), length)))
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.invalid("the backup \(path) has a manifest Keel cannot read: \(error)")
        }
        guard manifest.format == "keel-registry-backup" else { throw RegistryError.invalid("\(path) is not a Keel registry backup") }
        guard manifest.formatVersion <= formatVersion else {
            throw RegistryError.invalid("the backup \(path) is format \(manifest.formatVersion), written by Keel \(manifest.keelVersion); this Keel \(TrainedModel.keelVersion) reads up to \(formatVersion): upgrade Keel")
        }
        var dump = RegistryDump(rows: manifest.rows, head: manifest.head, checkpoints: manifest.checkpoints, signingKey: manifest.signingKey,
                                files: Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.name, $0.sha256) }))
        dump.configurationFiles = (manifest.configurationFiles ?? [:]).mapValues { Array($0) }
        // The chain is checked before anything is written: a damaged backup restores nothing.
        let verification = AuditLog.verify(try entries(dump), head: dump.head, checkpoints: dump.checkpoints)
        if let problem = verification.problem { throw RegistryError.invalid("the backup \(path) fails its audit check: \(problem)") }
        let located = Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.name, $0) })
        try await store.load(dump) { name in
            guard let file = located[name], file.offset >= magic.count, file.size >= 0 else { throw RegistryError.invalid("the backup \(path) lacks \(name)") }
            return try read(UInt64(file.offset), file.size)
        }
        return dump
    }

    /// The audit entries of a dump's rows.
    static func entries(_ dump: RegistryDump) throws -> [AuditEntry] {
        try (dump.rows["audit"] ?? []).map { row in
            guard row.count == 8, case .integer(let sequence) = row[0], case .text(let at) = row[1], case .text(let actor) = row[2],
                  case .text(let action) = row[3], case .text(let subject) = row[4], case .text(let details) = row[5],
                  case .text(let previous) = row[6], case .text(let hash) = row[7] else {
                throw RegistryError.invalid("an audit row of the backup cannot be read")
            }
            return AuditEntry(sequence: sequence, at: at, actor: actor, action: action, subject: subject, details: details, previousHash: previous, hash: hash)
        }
    }
}

/// `keel registry copy`: a whole registry from one location (a folder or a database) into a new one.
public enum RegistryCopy {
    /// Copies `source` into `target` (empty), the source's chain verified before and both after.
    public static func copy(from source: any RegistryDumping, to target: any RegistryDumping) async throws -> RegistryDump {
        let before = try await source.verifyAudit()
        if let problem = before.problem { throw RegistryError.invalid("the source registry \(source.location) fails its audit check: \(problem); nothing was copied") }
        let dump = try await source.dump()
        try await target.load(dump) { name in try await source.storedFile(name) }
        let after = try await target.verifyAudit()
        if let problem = after.problem { throw RegistryError.store("the copy at \(target.location) fails its audit check: \(problem)") }
        return dump
    }
}
