/// Why an artefact could not be read, written or trusted. Each message names the file.
public enum ArtifactError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notAnArtifact(path: String)
    case newerFormat(path: String, version: Int)
    case corrupt(path: String, reason: String)
    case needsKey(path: String)
    case wrongKey(path: String)
    case unsigned(path: String)
    case badSignature(path: String)
    case invalidKey(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read model file \(path): \(reason)"
        case .notAnArtifact(let path): "\(path) is not a Keel model file"
        case .newerFormat(let path, let version):
            "\(path) was written in artefact format \(version) by a newer Keel; this Keel reads formats 1 to \(Artifact.formatVersion)"
        case .corrupt(let path, let reason): "\(path) is corrupt or truncated: \(reason)"
        case .needsKey(let path):
            "\(path) is encrypted: give its key with --encrypt-key-file or KEEL_ARTIFACT_KEY (base64 of 32 bytes)"
        case .wrongKey(let path): "\(path) cannot be decrypted with the given key (wrong key, or the payload was altered)"
        case .unsigned(let path): "\(path) is not signed, and a verify key is configured: refusing to load it"
        case .badSignature(let path): "\(path) has a signature that the configured verify key does not accept: refusing to load it"
        case .invalidKey(let message): message
        }
    }
}
