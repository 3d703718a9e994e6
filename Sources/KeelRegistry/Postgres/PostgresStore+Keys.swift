import Foundation
import NIOCore
import PostgresNIO

/// API keys kept in a registry on PostgreSQL, so that every server following it accepts the same keys: only
/// each secret's SHA-256 is stored; issuing and revoking are audited, and followers hear of them at once.
extension PostgresStore {
    public func apiKeys() async throws -> [APIKeyRecord] {
        try await database.rows("SELECT id, name, role, sha256, created_at FROM api_keys ORDER BY created_at, id").map { row in
            let role = try row["role"].decode(String.self)
            guard let parsed = APIKeyRole(rawValue: role) else { throw RegistryError.invalid("an API key in \(location) has the unknown role '\(role)'") }
            return APIKeyRecord(id: try row["id"].decode(String.self), name: try row["name"].decode(String.self), role: parsed,
                                sha256: try row["sha256"].decode(String.self), createdAt: try row["created_at"].decode(String.self))
        }
    }

    /// The keys as the server checks them.
    public func apiKeyStore() async throws -> APIKeyStore {
        APIKeyStore(records: try await apiKeys(), origin: "the registry \(location)")
    }

    public func addAPIKey(_ record: APIKeyRecord, actor: String) async throws {
        try await database.audited { tx in
            try await tx.execute("""
                INSERT INTO api_keys (id, name, role, sha256, created_at)
                VALUES (\(record.id), \(record.name), \(record.role.rawValue), \(record.sha256), \(record.createdAt))
                """)
            try await tx.append(actor: actor, action: "key.create", subject: record.id, details: ["name": record.name, "role": record.role.rawValue])
            try await notify(&tx, "keys")
        }
    }

    /// Removes a key; false when there is none with `id`.
    public func revokeAPIKey(id: String, actor: String) async throws -> Bool {
        try await database.audited { tx in
            let removed = try await tx.rows("DELETE FROM api_keys WHERE id = \(id) RETURNING id")
            guard !removed.isEmpty else { return false }
            try await tx.append(actor: actor, action: "key.revoke", subject: id, details: [:])
            try await notify(&tx, "keys")
            return true
        }
    }
}

/// Configuration files kept in the registry (its `keel.yaml`: gates, humility rules, retraining policies),
/// where a folder registry keeps them in its folder; changes are audited and notified.
extension PostgresStore {
    public func configurationFile(_ name: String) async throws -> [UInt8]? {
        try await database.rows("SELECT content FROM config_files WHERE name = \(name)").first.map { row in
            Array(try row["content"].decode(ByteBuffer.self).readableBytesView)
        }
    }

    /// Stores `content` as `name`; false when it was there already, unchanged (nothing audited).
    @discardableResult
    public func putConfigurationFile(_ name: String, content: [UInt8], actor: String) async throws -> Bool {
        let hash = Registry.sha256(content)
        return try await database.audited { tx in
            let known = try await tx.rows("SELECT sha256 FROM config_files WHERE name = \(name) FOR UPDATE").first.map { try $0["sha256"].decode(String.self) }
            guard known != hash else { return false }
            try await tx.execute("""
                INSERT INTO config_files (name, content, sha256, updated_at, updated_by)
                VALUES (\(name), \(ByteBuffer(bytes: content)), \(hash), \(Registry.timestamp()), \(actor))
                ON CONFLICT (name) DO UPDATE SET content = excluded.content, sha256 = excluded.sha256,
                    updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """)
            try await tx.append(actor: actor, action: known == nil ? "config.add" : "config.change", subject: "\(name) in \(location)",
                                details: ["sha256": hash, "previous": known ?? ""])
            try await notify(&tx, "config")
            return true
        }
    }
}
