import Crypto
import Foundation
import KeelData
import KeelLearn

/// The model file: one self-describing, checksummed container that every later Keel can read.
///
/// Format 3 (written today), all integers little-endian:
/// ```
/// magic        8 bytes   89 4B 45 45 4C 0D 0A 1A  ("\x89KEEL\r\n\x1a": binary, catches text-mode mangling)
/// version      UInt16    3
/// flags        UInt16    bit 0: payload encrypted (AES-256-GCM, nonce | ciphertext | tag)
/// manifest     UInt32    length, then the manifest as JSON (always readable)
/// payload      UInt64    length, then the payload: the TrainedModel as JSON, or its encryption
/// checksum     32 bytes  SHA-256 of every byte before it
/// signature    optional: "SIG1", the 32-byte Ed25519 public key, the 64-byte signature of the checksum
/// ```
/// Format 3's payload holds the model's three parts apart (`predictor`, `provenance`, `profile`). Format 2
/// is the same container around the earlier flat payload. Format 1 (the first releases) is a text line
/// `KEELMODEL 1 <sha256 of payload>` followed by the flat JSON payload. Both are still read.
public struct Artifact: Sendable {
    public static let formatVersion = 3
    static let magic: [UInt8] = [0x89, 0x4B, 0x45, 0x45, 0x4C, 0x0D, 0x0A, 0x1A]
    static let headerSize = 24
    static let signatureTag = Array("SIG1".utf8)
    static let signatureSize = 4 + 32 + 64

    public var info: ArtifactInfo
    public var model: TrainedModel
    public var manifest: ArtifactManifest { info.manifest }

    public struct WriteOptions: Sendable {
        public var encryptionKey: EncryptionKey?
        public var signingKey: SigningKey?
        public var name: String?
        public var version: String?

        public init(encryptionKey: EncryptionKey? = nil, signingKey: SigningKey? = nil, name: String? = nil, version: String? = nil) {
            self.encryptionKey = encryptionKey
            self.signingKey = signingKey
            self.name = name
            self.version = version
        }
    }

    public struct ReadOptions: Sendable {
        public var decryptionKey: EncryptionKey?
        /// When set, unsigned files and files not signed by this key are refused.
        public var verifyKey: VerifyKey?
        /// With `verifyKey`: unsigned files are read after all (the caller says so); files signed by another
        /// key are still refused.
        public var allowUnsigned: Bool
        /// The key a model's pseudonymised columns were made with, for scoring them (`--pii-key-file`).
        public var pseudonymKey: KeyedHasher?

        public init(decryptionKey: EncryptionKey? = nil, verifyKey: VerifyKey? = nil, allowUnsigned: Bool = false) {
            self.decryptionKey = decryptionKey
            self.verifyKey = verifyKey
            self.allowUnsigned = allowUnsigned
        }

        /// Whether an unsigned file is refused.
        var refusesUnsigned: Bool { verifyKey != nil && !allowUnsigned }
    }

    // MARK: Writing

    /// Writes `model` atomically (temporary file, fsync, rename) and returns the file's checksum.
    @discardableResult
    public static func write(_ model: TrainedModel, to path: String, options: WriteOptions = WriteOptions()) throws -> String {
        let (bytes, checksum) = try encode(model, options: options)
        try AtomicFile.write(bytes, to: path)
        return checksum
    }

    public static func encode(_ model: TrainedModel, options: WriteOptions = WriteOptions()) throws -> (bytes: [UInt8], checksum: String) {
        let plain = try payloadEncoder().encode(model)
        var payload = plain
        var flags: UInt16 = 0
        if let key = options.encryptionKey {
            guard let combined = try AES.GCM.seal(plain, using: key.key).combined else {
                throw ArtifactError.invalidKey("AES-GCM did not produce a combined box")
            }
            payload = combined
            flags |= 1
        }
        let info = ArtifactManifest.PayloadInfo(sha256: hex(SHA256.hash(data: plain)), bytes: plain.count, encoding: "json",
                                                encryption: options.encryptionKey == nil ? nil : "AES-256-GCM")
        let manifest = ArtifactManifest(model: model, formatVersion: formatVersion, payload: info, name: options.name, version: options.version)
        let manifestBytes = try manifestEncoder().encode(manifest)
        var bytes = magic
        append(UInt16(formatVersion), to: &bytes)
        append(flags, to: &bytes)
        append(UInt32(manifestBytes.count), to: &bytes)
        append(UInt64(payload.count), to: &bytes)
        bytes += manifestBytes
        bytes += payload
        let digest = Array(SHA256.hash(data: bytes))
        bytes += digest
        if let signer = options.signingKey {
            bytes += signatureTag
            bytes += signer.key.publicKey.rawRepresentation
            bytes += try signer.key.signature(for: digest)
        }
        return (bytes, hex(digest))
    }

    // MARK: Reading

    /// Reads, verifies and decodes the model file at `path`.
    public static func read(from path: String, options: ReadOptions = ReadOptions()) throws -> Artifact {
        let (info, model) = try decode(try contents(of: path), path: path, options: options, wantModel: true)
        guard let model else { throw ArtifactError.corrupt(path: path, reason: "it holds no model") }
        return Artifact(info: info, model: model)
    }

    /// Reads only the manifest: needs no decryption key (the signature is still checked when configured).
    public static func inspect(_ path: String, options: ReadOptions = ReadOptions()) throws -> ArtifactInfo {
        try decode(try contents(of: path), path: path, options: options, wantModel: false).info
    }

    package static func decode(_ bytes: [UInt8], path: String, options: ReadOptions, wantModel: Bool) throws -> (info: ArtifactInfo, model: TrainedModel?) {
        if bytes.starts(with: Array("KEELMODEL ".utf8)) { return try decodeFormat1(bytes, path: path, options: options) }
        guard bytes.count >= headerSize, bytes.starts(with: magic) else { throw ArtifactError.notAnArtifact(path: path) }
        let version = Int(read(UInt16.self, bytes, at: 8))
        guard version <= formatVersion else { throw ArtifactError.newerFormat(path: path, version: version) }
        guard version >= 2 else { throw ArtifactError.corrupt(path: path, reason: "unknown format version \(version)") }
        let flags = read(UInt16.self, bytes, at: 10)
        let manifestLength = Int(read(UInt32.self, bytes, at: 12))
        let payloadLength = read(UInt64.self, bytes, at: 16)
        guard payloadLength < UInt64(Int.max / 2) else { throw ArtifactError.corrupt(path: path, reason: "impossible payload length") }
        let bodyEnd = headerSize + manifestLength + Int(payloadLength)
        guard bytes.count == bodyEnd + 32 || bytes.count == bodyEnd + 32 + signatureSize else {
            throw ArtifactError.corrupt(path: path, reason: "expected \(bodyEnd + 32) bytes (or a signature after them), found \(bytes.count)")
        }
        let digest = Array(SHA256.hash(data: bytes[..<bodyEnd]))
        guard Array(bytes[bodyEnd..<(bodyEnd + 32)]) == digest else {
            throw ArtifactError.corrupt(path: path, reason: "its checksum does not match")
        }
        var signer: String?
        if bytes.count > bodyEnd + 32 {
            let trailer = bytes[(bodyEnd + 32)...]
            guard trailer.starts(with: signatureTag),
                  let key = try? Curve25519.Signing.PublicKey(rawRepresentation: Array(trailer.dropFirst(4).prefix(32))) else {
                throw ArtifactError.corrupt(path: path, reason: "its signature block is malformed")
            }
            let signature = Array(trailer.suffix(64))
            if let verify = options.verifyKey {
                guard verify.key.isValidSignature(signature, for: digest) else { throw ArtifactError.badSignature(path: path) }
            } else if !key.isValidSignature(signature, for: digest) {
                throw ArtifactError.corrupt(path: path, reason: "its signature does not match its content")
            }
            signer = key.rawRepresentation.base64EncodedString()
        } else if options.refusesUnsigned {
            throw ArtifactError.unsigned(path: path)
        }
        let manifestBytes = bytes[headerSize..<(headerSize + manifestLength)]
        var manifest: ArtifactManifest
        do {
            manifest = try JSONDecoder().decode(ArtifactManifest.self, from: Data(manifestBytes))
        } catch {
            throw ArtifactError.corrupt(path: path, reason: "its manifest is not valid: \(error)")
        }
        manifest.formatVersion = version
        // Format 2 kept the columns read as text beside the schema; the model now finds them inside it.
        if manifest.schema.textColumns == nil, !manifest.textColumns.isEmpty { manifest.schema.textColumns = manifest.textColumns }
        let info = ArtifactInfo(manifest: manifest, checksum: hex(digest), signer: signer, encrypted: flags & 1 != 0)
        guard wantModel else { return (info, nil) }
        var payload = Data(bytes[(headerSize + manifestLength)..<bodyEnd])
        if flags & 1 != 0 {
            guard let key = options.decryptionKey else { throw ArtifactError.needsKey(path: path) }
            do {
                payload = try AES.GCM.open(try AES.GCM.SealedBox(combined: payload), using: key.key)
            } catch {
                throw ArtifactError.wrongKey(path: path)
            }
        }
        guard hex(SHA256.hash(data: payload)) == manifest.payload.sha256 else {
            throw ArtifactError.corrupt(path: path, reason: "its payload does not match the manifest's checksum")
        }
        return (info, try decodeModel(payload, path: path))
    }

    /// Format 1: `KEELMODEL 1 <sha256>\n` + JSON. Never signed, never encrypted.
    private static func decodeFormat1(_ bytes: [UInt8], path: String, options: ReadOptions) throws -> (info: ArtifactInfo, model: TrainedModel?) {
        guard let newline = bytes.firstIndex(of: 0x0A), let header = String(validating: bytes[..<newline], as: UTF8.self) else {
            throw ArtifactError.notAnArtifact(path: path)
        }
        let parts = header.split(separator: " ")
        guard parts.count == 3, let version = Int(parts[1]) else { throw ArtifactError.notAnArtifact(path: path) }
        guard version == 1 else { throw ArtifactError.corrupt(path: path, reason: "a text header must say format 1, not \(version)") }
        if options.refusesUnsigned { throw ArtifactError.unsigned(path: path) }
        let payload = Data(bytes[(newline + 1)...])
        let digest = hex(SHA256.hash(data: payload))
        guard digest == parts[2] else { throw ArtifactError.corrupt(path: path, reason: "its checksum does not match") }
        let model = try decodeModel(payload, path: path)
        let info = ArtifactManifest.PayloadInfo(sha256: digest, bytes: payload.count, encoding: "json", encryption: nil)
        let manifest = ArtifactManifest(model: model, formatVersion: 1, payload: info)
        return (ArtifactInfo(manifest: manifest, checksum: digest, signer: nil, encrypted: false), model)
    }

    private static func decodeModel(_ payload: Data, path: String) throws -> TrainedModel {
        do {
            return try payloadDecoder().decode(TrainedModel.self, from: payload)
        } catch let error as LearnError {
            throw ArtifactError.corrupt(path: path, reason: error.description)
        } catch {
            throw ArtifactError.corrupt(path: path, reason: "its payload is not a valid model: \(error)")
        }
    }

    // MARK: Helpers

    private static func contents(of path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw ArtifactError.unreadable(path: path, reason: "no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ArtifactError.unreadable(path: path, reason: "permission denied or not a file") }
        return Array(data)
    }

    package static func payloadEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// Reads what `payloadEncoder` writes (non-finite numbers as strings).
    package static func payloadDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    static func manifestEncoder() -> JSONEncoder {
        let encoder = payloadEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }

    package static func hex(_ digest: some Sequence<UInt8>) -> String {
        SHA256Hasher.hex(Array(digest))
    }
}

/// What can be known of an artefact without its decryption key.
public struct ArtifactInfo: Sendable {
    public var manifest: ArtifactManifest
    /// SHA-256 (hex) of the file's content, the identity a registry stores it under.
    public var checksum: String
    /// Base64 of the public key that signed the file, when it is signed.
    public var signer: String?
    public var encrypted: Bool
}
