import Crypto
import Foundation
import KeelArtifact
import KeelData

/// What an API key may do. `predict` covers scoring, explanations and feedback; `admin` covers everything.
public enum APIKeyRole: String, Codable, Sendable, CaseIterable {
    /// Scoring, explaining and feedback; `metrics` reads `/metrics` only (for a Prometheus scraper);
    /// `reviewer` lists and decides the review queue only; `admin` may call everything.
    case predict, metrics, reviewer, admin

    public func allows(_ needed: APIKeyRole) -> Bool { self == .admin || self == needed }
}

/// One issued key. Only the SHA-256 of the secret is stored: a leaked keys file reveals no usable key.
public struct APIKeyRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: APIKeyRole
    public var sha256: String
    public var createdAt: String
}

/// The API keys of a Keel home folder (`api-keys.json`), written atomically; or, read from a registry on
/// PostgreSQL, a set held in memory (`init(records:origin:)`), changed through the registry, not here.
public struct APIKeyStore: Sendable {
    /// The keys file, or where the keys were read from.
    public let path: String
    public private(set) var keys: [APIKeyRecord]
    private var inMemory = false

    /// Keys read from elsewhere (a registry's database); `create` and `revoke` refuse on such a set.
    public init(records: [APIKeyRecord], origin: String) {
        (path, keys, inMemory) = (origin, records, true)
    }

    /// Loads `path`; a file that does not exist is an empty store.
    public init(path: String) throws {
        self.path = path
        if let data = FileManager.default.contents(atPath: path) {
            do {
                keys = try JSONDecoder().decode([APIKeyRecord].self, from: data)
            } catch {
                throw ArtifactError.invalidKey("the API keys file \(path) is not valid: \(error)")
            }
        } else {
            keys = []
        }
    }

    /// The key file of a Keel home: `$KEEL_HOME/api-keys.json`, else `./.keel/api-keys.json`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        // A KEEL_HOME that names a database keeps its keys there (`keel keys … --registry`), not in a file.
        (environment["KEEL_HOME"].flatMap { $0.isEmpty || RegistryStores.isDatabase($0) ? nil : $0 } ?? ".keel") + "/api-keys.json"
    }

    /// Issues a key: returns the secret, shown once, and stores only its hash.
    public mutating func create(role: APIKeyRole, name: String, now: Date = Date()) throws -> (record: APIKeyRecord, secret: String) {
        let (record, secret) = Self.issue(role: role, name: name, now: now)
        keys.append(record)
        try save()
        return (record, secret)
    }

    /// A new key and its secret, stored nowhere yet.
    public static func issue(role: APIKeyRole, name: String, now: Date = Date()) -> (record: APIKeyRecord, secret: String) {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let secret = "keel_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let id = String(Self.hash(secret).prefix(12))
        return (APIKeyRecord(id: id, name: name, role: role, sha256: Self.hash(secret), createdAt: ISO8601DateFormatter().string(from: now)), secret)
    }

    /// Removes the key with `id`; false when there is none.
    public mutating func revoke(id: String) throws -> Bool {
        guard let index = keys.firstIndex(where: { $0.id == id }) else { return false }
        keys.remove(at: index)
        try save()
        return true
    }

    /// The role of a presented secret, or nil when it is not a key of this store.
    public func role(of secret: String) -> APIKeyRole? { key(of: secret)?.role }

    private static func equalInConstantTime(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// The record of a presented secret (its name and id name the caller in the audit log), or nil.
    public func key(of secret: String) -> APIKeyRecord? {
        let digest = Self.hash(secret)
        // Every stored hash is compared in full, so the time taken does not reveal how close a guess came.
        var found: APIKeyRecord?
        for key in keys where Self.equalInConstantTime(key.sha256, digest) { found = key }
        return found
    }

    public var isEmpty: Bool { keys.isEmpty }

    private func save() throws {
        guard !inMemory else { throw RegistryError.invalid("the API keys from \(path) are changed with `keel keys … --registry URL`") }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(keys)), to: path)
        chmod(path, 0o600)
    }

    static func hash(_ secret: String) -> String { Artifact.hex(SHA256.hash(data: Data(secret.utf8))) }
}
