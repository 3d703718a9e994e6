import Crypto
import Foundation

extension Artifact {
    /// The same file signed by `key` instead of its current signer (or of none): what a registry stores when
    /// it takes in a file written elsewhere (`keel models import`), so that its own verify key accepts it.
    ///
    /// A format 2 file keeps its bytes up to the checksum, so the payload (encrypted or not) is never
    /// decoded; only the signature block after it is replaced. A format 1 file cannot hold a signature and
    /// is rewritten in format 2 (format 1 is never encrypted). The file is checked first: a corrupt file or a
    /// signature that does not match its content is an error, never re-signed.
    public static func resigned(_ bytes: [UInt8], with key: SigningKey, path: String) throws -> [UInt8] {
        if bytes.starts(with: Array("KEELMODEL ".utf8)) {
            guard let model = try decode(bytes, path: path, options: ReadOptions(), wantModel: true).model else {
                throw ArtifactError.corrupt(path: path, reason: "it holds no model")
            }
            return try encode(model, options: WriteOptions(signingKey: key)).bytes
        }
        _ = try decode(bytes, path: path, options: ReadOptions(), wantModel: false)
        let bodyEnd = headerSize + Int(read(UInt32.self, bytes, at: 12)) + Int(read(UInt64.self, bytes, at: 16))
        let digest = Array(bytes[bodyEnd..<(bodyEnd + 32)])
        return Array(bytes[..<(bodyEnd + 32)]) + signatureTag + key.key.publicKey.rawRepresentation + (try key.key.signature(for: digest))
    }
}
