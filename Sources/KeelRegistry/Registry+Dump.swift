import Crypto
import Foundation
import GRDB
import KeelArtifact
import KeelData

/// A folder registry dumped and loaded: the tables from `registry.sqlite`, the head and checkpoints from
/// their files, the signing key from `signing.key`, and the stored files from `artifacts/` and `snapshots/`.
extension Registry: RegistryDumping {
    public func dump() async throws -> RegistryDump {
        var rows: [String: [[RegistryDump.Cell]]] = [:]
        try read { db in
            for table in RegistryDump.tables {
                let names = table.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
                let fetched = try Row.fetchAll(db, sql: "SELECT \(names) FROM \(table.name) ORDER BY \(table.order)")
                rows[table.name] = fetched.compactMap { row in
                    if table.name == "settings", let key = row[0] as String?, RegistryDump.ownSettings.contains(key) { return nil }
                    return table.columns.indices.map { index in Self.cell(row[index] as DatabaseValue, table.columns[index].kind) }
                }
            }
        }
        let head = FileManager.default.contents(atPath: headPath).flatMap { try? JSONDecoder().decode(AuditHead.self, from: $0) }
            ?? AuditHead(count: 0, hash: AuditEntry.genesisHash)
        var files: [String: String] = [:]
        for folder in [artifactsFolder, snapshotsFolder] {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() where !name.hasPrefix(".") {
                guard let data = FileManager.default.contents(atPath: folder + "/" + name) else {
                    throw RegistryError.store("cannot read \(folder)/\(name)")
                }
                files[name] = Registry.sha256(Array(data))
            }
        }
        let key = FileManager.default.contents(atPath: signingKeyPath).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        var dump = RegistryDump(rows: rows, head: head, checkpoints: try checkpoints(), signingKey: key, files: files)
        if let yaml = FileManager.default.contents(atPath: folder + "/keel.yaml") { dump.configurationFiles["keel.yaml"] = Array(yaml) }
        return dump
    }

    public func storedFile(_ name: String) async throws -> [UInt8] {
        let folder = name.hasSuffix(".snap") ? snapshotsFolder : artifactsFolder
        guard let data = FileManager.default.contents(atPath: folder + "/" + name) else {
            throw RegistryError.notFound("\(folder)/\(name) is missing")
        }
        return Array(data)
    }

    public func load(_ dump: RegistryDump, file: (String) async throws -> [UInt8]) async throws {
        guard try await isEmpty(), try models().isEmpty else {
            throw RegistryError.invalid("the registry at \(folder) is not empty; copy or restore into a new one")
        }
        // Files first: rows that name them must never exist without them.
        for (name, sha) in dump.files.sorted(by: { $0.key < $1.key }) {
            guard name.range(of: #"^[A-Za-z0-9_.-]+\.(keel|snap)$"#, options: .regularExpression) != nil else {
                throw RegistryError.invalid("the stored file name '\(name)' is not one Keel writes")
            }
            let bytes = try RegistryDumpRules.checked(try await file(name), name: name, expected: sha, source: "the source registry")
            try AtomicFile.write(bytes, to: (name.hasSuffix(".snap") ? snapshotsFolder : artifactsFolder) + "/" + name)
        }
        if let key = dump.signingKey {
            _ = try SigningKey(base64: key, source: "the source registry's signing key")
            // Private from its first byte: the temporary file is made under umask 077.
            let previous = umask(0o077)
            defer { umask(previous) }
            try AtomicFile.write(Array((key + "\n").utf8), to: signingKeyPath)
            chmod(signingKeyPath, 0o600)
            try AtomicFile.write(Array((try SigningKey(base64: key, source: "the signing key").verifyKey.base64 + "\n").utf8), to: verifyKeyPath)
        }
        try write { db in
            for table in RegistryDump.tables {
                let names = table.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
                let statement = try db.makeStatement(sql: "INSERT INTO \(table.name) (\(names)) VALUES (\(table.columns.map { _ in "?" }.joined(separator: ", ")))")
                for row in dump.rows[table.name] ?? [] {
                    guard row.count == table.columns.count else { throw RegistryError.invalid("a \(table.name) row has \(row.count) cells, not \(table.columns.count)") }
                    try statement.execute(arguments: StatementArguments(zip(row, table.columns).map { Self.value($0.coerced(to: $1.kind)) }))
                }
            }
        }
        if let yaml = dump.configurationFiles["keel.yaml"] {
            try AtomicFile.write(yaml, to: folder + "/keel.yaml")
            try noteConfiguration(path: folder + "/keel.yaml", content: yaml, actor: Registry.currentUser)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        for checkpoint in dump.checkpoints {
            try AtomicFile.write(Array(try encoder.encode(checkpoint)), to: checkpointsFolder + "/\(String(format: "%010d", checkpoint.count)).json")
        }
    }

    static func cell(_ value: DatabaseValue, _ kind: RegistryDump.Kind) -> RegistryDump.Cell {
        switch value.storage {
        case .null: .null
        case .int64(let number): RegistryDump.Cell.integer(Int(number)).coerced(to: kind)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        case .blob(let data): .text(String(decoding: data, as: UTF8.self))
        }
    }

    static func value(_ cell: RegistryDump.Cell) -> DatabaseValue {
        switch cell {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        case .boolean(let flag): flag.databaseValue
        }
    }
}
