import Foundation
import KeelArtifact
import NIOCore
import PostgresNIO

/// A registry on PostgreSQL dumped (in one snapshot, so a writer committing meanwhile cannot tear it) and
/// loaded (files first, then every row in one transaction, so a failed load leaves the database as it was).
extension PostgresStore: RegistryDumping {
    public func dump() async throws -> RegistryDump {
        try await database.reading { connection in
            try await PostgresRegistryDatabase.transaction(connection, logger: database.logger,
                                                           begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                var rows: [String: [[RegistryDump.Cell]]] = [:]
                for table in RegistryDump.tables {
                    let names = table.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
                    let order = table.order.split(separator: ",").map { "\"\($0.trimmingCharacters(in: .whitespaces))\"" }.joined(separator: ", ")
                    let fetched = try await connection.query(PostgresQuery(unsafeSQL: "SELECT \(names) FROM \(table.name) ORDER BY \(order)"),
                                                             logger: database.logger).collect()
                    rows[table.name] = try fetched.compactMap { row in
                        let cells = row.makeRandomAccess()
                        let values = try table.columns.map { try Self.cell(cells[$0.name], $0.kind) }
                        if table.name == "settings", case .text(let key) = values[0], RegistryDump.ownSettings.contains(key) { return nil }
                        return values
                    }
                }
                let head = try await database.head(connection)
                let checkpoints = try await PostgresRegistryDatabase.checkpoints(connection, logger: database.logger)
                let key = try await connection.query("SELECT value FROM settings WHERE key = 'signing.key'", logger: database.logger).collect()
                var files: [String: String] = [:]
                for try await (name, sha) in try await connection.query("SELECT name, sha256 FROM blobs ORDER BY name", logger: database.logger)
                    .decode((String, String).self) {
                    files[name] = sha
                }
                var dump = RegistryDump(rows: rows, head: head, checkpoints: checkpoints, signingKey: try key.first?.decode(String.self), files: files)
                for try await (name, content) in try await connection.query("SELECT name, content FROM config_files ORDER BY name", logger: database.logger)
                    .decode((String, ByteBuffer).self) {
                    dump.configurationFiles[name] = Array(content.readableBytesView)
                }
                return dump
            }
        }
    }

    public func storedFile(_ name: String) async throws -> [UInt8] {
        try await database.blob(name)
    }

    public func load(_ dump: RegistryDump, file: (String) async throws -> [UInt8]) async throws {
        guard try await isEmpty(), try await models(named: nil).isEmpty else {
            throw RegistryError.invalid("the registry at \(location) is not empty; copy or restore into a new one")
        }
        for (name, sha) in dump.files.sorted(by: { $0.key < $1.key }) {
            let bytes = try RegistryDumpRules.checked(try await file(name), name: name, expected: sha, source: "the source registry")
            try await database.putBlob(name, kind: name.hasSuffix(".snap") ? .snapshot : .artifact, bytes: bytes)
        }
        if let key = dump.signingKey { _ = try SigningKey(base64: key, source: "the source registry's signing key") }
        try await database.audited { tx in
            guard tx.head.count == 0 else { throw RegistryError.invalid("the registry at \(location) is not empty; copy or restore into a new one") }
            for table in RegistryDump.tables {
                let names = table.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
                for row in dump.rows[table.name] ?? [] {
                    guard row.count == table.columns.count else { throw RegistryError.invalid("a \(table.name) row has \(row.count) cells, not \(table.columns.count)") }
                    var query = PostgresQuery(unsafeSQL: "INSERT INTO \(table.name) (\(names)) VALUES (\((1...row.count).map { "$\($0)" }.joined(separator: ", ")))")
                    for (cell, column) in zip(row, table.columns) { Self.bind(cell.coerced(to: column.kind), column.kind, into: &query.binds) }
                    try await tx.execute(query)
                }
                if table.identity {
                    try await tx.execute(PostgresQuery(unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), GREATEST((SELECT MAX(id) FROM \(table.name)), 1),
                                      (SELECT MAX(id) FROM \(table.name)) IS NOT NULL)
                        """))
                }
            }
            for checkpoint in dump.checkpoints {
                try await tx.execute("""
                    INSERT INTO audit_checkpoints ("count", hash, at, public_key, signature)
                    VALUES (\(checkpoint.count), \(checkpoint.hash), \(checkpoint.at), \(checkpoint.publicKey), \(checkpoint.signature))
                    """)
            }
            if let key = dump.signingKey {
                let verify = try SigningKey(base64: key, source: "the signing key").verifyKey.base64
                try await tx.execute("INSERT INTO settings (key, value) VALUES ('signing.key', \(key)), ('signing.pub', \(verify))")
            }
            for (name, content) in dump.configurationFiles.sorted(by: { $0.key < $1.key }) {
                try await tx.execute("""
                    INSERT INTO config_files (name, content, sha256, updated_at, updated_by)
                    VALUES (\(name), \(ByteBuffer(bytes: content)), \(Registry.sha256(content)), \(Registry.timestamp()), \(Registry.currentUser))
                    """)
            }
            // The head follows the loaded entries (checked against the source's head by the caller's verification).
            if let last = dump.rows["audit"]?.last, case .text(let hash) = last[7] {
                try await tx.execute("UPDATE audit_head SET \"count\" = \(dump.entryCount), hash = \(hash) WHERE id = 1")
            }
        }
    }

    static func cell(_ cell: PostgresCell, _ kind: RegistryDump.Kind) throws -> RegistryDump.Cell {
        switch kind {
        case .integer: try cell.decode(Int?.self).map(RegistryDump.Cell.integer) ?? .null
        case .real: try cell.decode(Double?.self).map(RegistryDump.Cell.real) ?? .null
        case .text: try cell.decode(String?.self).map(RegistryDump.Cell.text) ?? .null
        case .boolean: try cell.decode(Bool?.self).map(RegistryDump.Cell.boolean) ?? .null
        }
    }

    static func bind(_ cell: RegistryDump.Cell, _ kind: RegistryDump.Kind, into binds: inout PostgresBindings) {
        switch cell {
        case .null:
            switch kind {
            case .integer: binds.append(Int?.none)
            case .real: binds.append(Double?.none)
            case .text: binds.append(String?.none)
            case .boolean: binds.append(Bool?.none)
            }
        case .integer(let value): binds.append(value)
        case .real(let value): binds.append(value)
        case .text(let value): binds.append(value)
        case .boolean(let value): binds.append(value)
        }
    }
}
