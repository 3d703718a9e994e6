import Foundation
import KeelArtifact

/// The registry's own Ed25519 key pair, kept in its folder: `signing.key` (private, mode 0600) signs every
/// artefact that enters the registry (training, retraining, imports); `signing.pub` is what a server
/// following the registry verifies production models against. `keel keys generate-signing --registry`
/// creates them. A registry without them stores and serves unsigned files, as before.
///
/// The pair guards the artefacts against change after registration (a file replaced in `artifacts/`, on
/// shared storage or in a backup); whoever can write the key files can also sign, so keep the folder's
/// permissions as tight as the key's, or pin the public key elsewhere with `keel serve --verify-key-file`.
extension Registry {
    public static func signingKeyPath(folder: String) -> String { folder + "/signing.key" }
    public static func verifyKeyPath(folder: String) -> String { folder + "/signing.pub" }

    public var signingKeyPath: String { Registry.signingKeyPath(folder: folder) }
    public var verifyKeyPath: String { Registry.verifyKeyPath(folder: folder) }

    /// The key that signs what this registry stores; nil when the registry has none. A key file that exists
    /// but cannot be read is an error, never a silent fall back to unsigned files.
    public func signingKey() throws -> SigningKey? {
        FileManager.default.fileExists(atPath: signingKeyPath) ? try SigningKey(file: signingKeyPath) : nil
    }

    /// The public key of the registry at `folder` (which need not be opened); nil when it has none. Without
    /// `signing.pub`, the public half of `signing.key` is used.
    public static func verifyKey(folder: String) throws -> VerifyKey? {
        let path = verifyKeyPath(folder: folder)
        if FileManager.default.fileExists(atPath: path) { return try VerifyKey(file: path) }
        let key = signingKeyPath(folder: folder)
        return FileManager.default.fileExists(atPath: key) ? try SigningKey(file: key).verifyKey : nil
    }
}
