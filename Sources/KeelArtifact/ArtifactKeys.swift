import Crypto
import Foundation
import KeelData

/// A 256-bit key for AES-GCM encryption of an artefact's payload. Files and `KEEL_ARTIFACT_KEY` hold it as
/// base64 of 32 bytes (a file may also hold the 32 raw bytes).
public struct EncryptionKey: Sendable {
    /// Raw bytes: swift-crypto's key types are not `Sendable`, so they are made where used.
    private let raw: Data
    package var key: SymmetricKey { SymmetricKey(data: raw) }

    public init(base64: String, source: String) throws {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw ArtifactError.invalidKey("\(source) must hold base64 of exactly 32 bytes (an AES-256 key)")
        }
        raw = data
    }

    private init(raw: Data) { self.raw = raw }

    public init(file: String) throws {
        let data = try KeyFile.read(file)
        if data.count == 32 {
            self.init(raw: data)
        } else {
            try self.init(base64: String(decoding: data, as: UTF8.self), source: "the key file \(file)")
        }
    }

    /// The key from `file` when given, else from `KEEL_ARTIFACT_KEY`, else none.
    public static func resolve(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> EncryptionKey? {
        if let file { return try EncryptionKey(file: file) }
        if let value = environment["KEEL_ARTIFACT_KEY"], !value.isEmpty { return try EncryptionKey(base64: value, source: "KEEL_ARTIFACT_KEY") }
        return nil
    }

    /// A fresh random key, base64-encoded, for `keel keys generate-encryption`.
    public static func generateBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}

/// An Ed25519 private key that signs artefacts. Stored as base64 of its 32-byte raw form.
public struct SigningKey: Sendable {
    private let raw: Data
    package var key: Curve25519.Signing.PrivateKey {
        // Checked on construction, so this cannot fail.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }

    public init(file: String) throws {
        let text = String(decoding: try KeyFile.read(file), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: text), (try? Curve25519.Signing.PrivateKey(rawRepresentation: data)) != nil else {
            throw ArtifactError.invalidKey("the signing key file \(file) must hold base64 of a 32-byte Ed25519 private key (see `keel keys generate-signing`)")
        }
        raw = data
    }

    private init(key: Curve25519.Signing.PrivateKey) { raw = key.rawRepresentation }

    /// The key from its base64 text (as a key file holds it); `source` names where it came from in errors.
    public init(base64 text: String, source: String) throws {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              (try? Curve25519.Signing.PrivateKey(rawRepresentation: data)) != nil else {
            throw ArtifactError.invalidKey("\(source) must hold base64 of a 32-byte Ed25519 private key (see `keel keys generate-signing`)")
        }
        raw = data
    }

    public static func generate() -> SigningKey { SigningKey(key: Curve25519.Signing.PrivateKey()) }

    public var base64: String { key.rawRepresentation.base64EncodedString() }
    public var verifyKey: VerifyKey { VerifyKey(key: key.publicKey) }
}

/// An Ed25519 public key: when configured, only artefacts it signed are loaded.
public struct VerifyKey: Sendable, Equatable {
    private let raw: Data
    package var key: Curve25519.Signing.PublicKey {
        // Checked on construction, so this cannot fail.
        try! Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    init(key: Curve25519.Signing.PublicKey) { raw = key.rawRepresentation }

    public init(file: String) throws {
        let text = String(decoding: try KeyFile.read(file), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: text), (try? Curve25519.Signing.PublicKey(rawRepresentation: data)) != nil else {
            throw ArtifactError.invalidKey("the verify key file \(file) must hold base64 of a 32-byte Ed25519 public key (the .pub file of `keel keys generate-signing`)")
        }
        raw = data
    }

    public var base64: String { raw.base64EncodedString() }
}

enum KeyFile {
    static func read(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArtifactError.invalidKey("cannot read the key file \(path)")
        }
        return data
    }
}

/// HMAC-SHA256 under a secret key: logged fields that must stay joinable (a customer id) but not readable,
/// and the pseudonyms of columns a privacy policy pseudonymises.
public struct KeyedHasher: Sendable, Pseudonymiser {
    /// Made once from the key's bytes and never changed; swift-crypto does not mark it Sendable.
    nonisolated(unsafe) private let key: SymmetricKey

    /// A key file holding at least `minimumBytes` bytes (raw, or base64 text such as `keel keys
    /// generate-encryption` writes); `purpose` names the key in the error ("the hash key file", "the PII key
    /// file given with --pii-key-file").
    public init(file: String, minimumBytes: Int = 16, purpose: String = "the hash key file") throws {
        let data = try KeyFile.read(file)
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = Data(base64Encoded: text) ?? data
        guard key.count >= minimumBytes else {
            throw ArtifactError.invalidKey("\(purpose) \(file) holds \(key.count) bytes; it must hold at least \(minimumBytes) (e.g. from `keel keys generate-encryption`)")
        }
        self.key = SymmetricKey(data: key)
    }

    /// A key given as base64 text in the environment variable `variable`.
    public init(base64: String, minimumBytes: Int = 16, variable: String = "KEEL_LOG_HASH_KEY") throws {
        guard let key = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), key.count >= minimumBytes else {
            throw ArtifactError.invalidKey("\(variable) must be base64 of at least \(minimumBytes) bytes")
        }
        self.key = SymmetricKey(data: key)
    }

    /// The HMAC in lowercase hex. The key is made once; the text's bytes are read in place where they can be
    /// (a pseudonymised column of a million distinct values calls this a million times).
    public func hash(_ text: String) -> String {
        var text = text
        let code = text.withUTF8 { HMAC<SHA256>.authenticationCode(for: UnsafeRawBufferPointer($0), using: key) }
        return code.withUnsafeBytes { SHA256Hasher.hex($0) }
    }

    public func pseudonym(_ text: String) -> String { hash(text) }

    /// The first 16 hex digits of the HMAC of a fixed label: names the key in a schema, reveals nothing of it.
    public var keyCheck: String { String(hash("keel pseudonym key check").prefix(16)) }

    /// The key for pseudonymised columns: `file` (`--pii-key-file`, `pii_key_file`), else `KEEL_PII_KEY`
    /// (base64), else nil. At least 32 bytes.
    public static func personalDataKey(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KeyedHasher? {
        if let file { return try KeyedHasher(file: file, minimumBytes: 32, purpose: "the PII key file (--pii-key-file)") }
        if let text = environment["KEEL_PII_KEY"], !text.isEmpty { return try KeyedHasher(base64: text, minimumBytes: 32, variable: "KEEL_PII_KEY") }
        return nil
    }
}

extension PrivacyGuard {
    /// The guard a model's schema asks for when scoring, with its key when it pseudonymises (from `keyFile`,
    /// else `KEEL_PII_KEY`); nil when the schema has no rule that changes data.
    public static func scoring(_ schema: Schema, keyFile: String?, keySource: String) throws -> PrivacyGuard? {
        let key = schema.needsPseudonymKey ? try KeyedHasher.personalDataKey(file: keyFile) : nil
        let privacyGuard = try PrivacyGuard(schema: schema, pseudonymiser: key, keySource: keySource)
        return privacyGuard.isEmpty ? nil : privacyGuard
    }
}
