import ArgumentParser
import KeelArtifact
import KeelRegistry

/// How `keel train` protects the model file it writes.
struct ArtifactWriteOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Encrypt the model's payload (AES-256-GCM) with the base64 32-byte key in this file; KEEL_ARTIFACT_KEY also works.", valueName: "file"))
    var encryptKeyFile: String?

    @Option(help: ArgumentHelp("Sign the model file with this Ed25519 private key (from `keel keys generate-signing`). A registry with its own key (`keel keys generate-signing --registry`) signs its copy with that key, and this key then signs the --out copy only.", valueName: "file"))
    var signKeyFile: String?

    func writeOptions(name: String?) throws -> Artifact.WriteOptions {
        Artifact.WriteOptions(encryptionKey: try EncryptionKey.resolve(file: encryptKeyFile),
                              signingKey: try signKeyFile.map(SigningKey.init(file:)), name: name)
    }
}

/// How commands that load a model decrypt and verify it.
struct ArtifactReadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Decrypt an encrypted model with the base64 32-byte key in this file; KEEL_ARTIFACT_KEY also works.", valueName: "file"))
    var encryptKeyFile: String?

    @Option(help: ArgumentHelp("Only load models signed by this Ed25519 public key (a .pub file of `keel keys generate-signing`).", valueName: "file"))
    var verifyKeyFile: String?

    func readOptions() throws -> Artifact.ReadOptions {
        Artifact.ReadOptions(decryptionKey: try EncryptionKey.resolve(file: encryptKeyFile),
                             verifyKey: try verifyKeyFile.map(VerifyKey.init(file:)))
    }
}
