import Crypto
import Foundation
import KeelArtifact
import NIOCore
import PostgresNIO

/// Artefacts and dataset snapshots in the database, so that every host sees them: stored by name (the file
/// name a folder registry gives them, which carries their content hash), in chunks of `chunkSize` bytes, each
/// chunk and the whole with a SHA-256 that reading checks.
extension PostgresRegistryDatabase {
    public enum BlobKind: String, Sendable { case artifact, snapshot }

    /// 1 MiB: large enough that a model is a few rows, small enough that no row nears PostgreSQL's limits.
    public static let chunkSize = 1 << 20

    /// Stores `bytes` under `name` in one transaction; a blob already there with the same content is left as
    /// it is (two hosts storing one snapshot at once both succeed), one with other content is an error.
    public func putBlob(_ name: String, kind: BlobKind, bytes: [UInt8]) async throws {
        try await reading { connection in
            try await Self.transaction(connection, logger: logger) {
                try await insertBlob(connection, name, kind: kind, bytes: bytes)
            }
        }
    }

    /// `putBlob` inside a transaction the caller holds.
    func insertBlob(_ connection: PostgresConnection, _ name: String, kind: BlobKind, bytes: [UInt8]) async throws {
        let digest = Artifact.hex(SHA256.hash(data: bytes))
        let chunks = (bytes.count + Self.chunkSize - 1) / Self.chunkSize
        let inserted = try await connection.query("""
            INSERT INTO blobs (name, kind, sha256, size, chunk_size, chunks, created_at)
            VALUES (\(name), \(kind.rawValue), \(digest), \(bytes.count), \(Self.chunkSize), \(chunks), \(Registry.timestamp()))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """, logger: logger).collect()
        guard inserted.isEmpty else {
            for index in 0..<chunks {
                let part = bytes[index * Self.chunkSize..<min(bytes.count, (index + 1) * Self.chunkSize)]
                let chunkDigest = Artifact.hex(SHA256.hash(data: part))
                try await connection.query("""
                    INSERT INTO blob_chunks (name, idx, sha256, data) VALUES (\(name), \(index), \(chunkDigest), \(ByteBuffer(bytes: part)))
                    """, logger: logger)
            }
            return
        }
        let rows = try await connection.query("SELECT sha256 FROM blobs WHERE name = \(name)", logger: logger).collect()
        if let existing = try rows.first?.decode(String.self), existing != digest {
            throw RegistryError.conflict("\(location.redacted) already holds \(name) with other content (SHA-256 \(existing.prefix(12))…, not \(digest.prefix(12))…)")
        }
    }

    /// The blob's bytes, every chunk and the whole checked against their SHA-256; a damaged or incomplete
    /// copy is an error naming the blob and the chunk.
    public func blob(_ name: String) async throws -> [UInt8] {
        try await reading { try await readBlob($0, name) }
    }

    /// `blob` on a connection the caller holds.
    func readBlob(_ connection: PostgresConnection, _ name: String) async throws -> [UInt8] {
        let described = try await connection.query("SELECT kind, sha256, size, chunks FROM blobs WHERE name = \(name)", logger: logger).collect()
        guard let row = described.first else {
            throw RegistryError.notFound("\(location.redacted) holds no \(name)")
        }
        let (kind, digest, size, chunks) = try row.decode((String, String, Int, Int).self)
        let what = "the \(kind == "snapshot" ? "snapshot" : "model file") \(name) in \(location.redacted)"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        var expected = 0
        let parts = try await connection.query("SELECT idx, sha256, data FROM blob_chunks WHERE name = \(name) ORDER BY idx", logger: logger)
        for try await (index, chunkDigest, data) in parts.decode((Int, String, ByteBuffer).self) {
            guard index == expected else {
                throw RegistryError.invalid("\(what) is incomplete: chunk \(expected) of \(chunks) is missing")
            }
            let part = Array(data.readableBytesView)
            guard Artifact.hex(SHA256.hash(data: part)) == chunkDigest else {
                throw RegistryError.invalid("\(what) fails its checksum at chunk \(index) of \(chunks): the database copy is damaged")
            }
            bytes += part
            expected += 1
        }
        guard expected == chunks else {
            throw RegistryError.invalid("\(what) is incomplete: \(expected) of \(chunks) chunks")
        }
        guard bytes.count == size, Artifact.hex(SHA256.hash(data: bytes)) == digest else {
            throw RegistryError.invalid("\(what) fails its checksum: \(bytes.count) bytes, SHA-256 not the recorded one; the database copy is damaged")
        }
        return bytes
    }
}
