import KeelArtifact
import KeelLearn
import KeelRegistry
import Logging

/// What the server knows of where its models come from, said at warning level whenever it is less than a
/// verified signature: a registry without a signing key, an unsigned model served with --allow-unsigned, a
/// model file whose signature nobody checks. Models that fail verification are refused, named.
extension ModelSlot {
    /// Created on first use, after `PredictionServer.run` has installed the logfmt handler.
    private static let log = Logger(label: "keel.server")

    /// Loads a registry version; an error names the version, and for a signature, what would change it.
    func load(_ version: ModelVersion, from registry: any RegistryStore) async throws -> LoadedModel {
        let model: LoadedModel
        do {
            model = try LoadedModel(path: try await registry.artifactFile(version), options: readOptions, limits: limits,
                                    identity: (version.name, String(version.version)), checksumOfFile: version.artifact,
                                    rules: rules(for: version.name))
        } catch let error as ArtifactError {
            throw RefusedVersion(version: version, error: error)
        } catch let error as HumilityError {
            throw RegistryError.invalid("\(version.stage.rawValue) model \(version.reference): its humility rules in \(humility?.origin ?? "the settings") do not fit it: \(error)")
        }
        if readOptions.verifyKey != nil && model.artifact.info.signer == nil {
            Self.log.warning("serving an unsigned model (--allow-unsigned): nothing shows it is the file that was registered", metadata: [
                "model": .string(version.name), "version": .string(String(version.version)), "stage": .string(version.stage.rawValue),
            ])
        }
        return model
    }

    /// At start: a registry without a key, or the model file's signature (file mode).
    func noteVerification() {
        switch source {
        case .registry(let registry):
            guard readOptions.verifyKey == nil else { return }
            Self.log.warning("""
                models are not verified: the registry has no signing key, so any file in its artifacts folder is served as it is; \
                set one up with `keel keys generate-signing --registry \(registry.location)` (models registered after that are \
                signed, and this server then refuses unsigned ones unless --allow-unsigned)
                """, metadata: ["registry": .string(registry.location)])
        case .file:
            for model in models.values { noteSignature(of: model) }
        }
    }

    /// File mode: an unsigned model, or a signature that no trusted key checks.
    func noteSignature(of model: LoadedModel) {
        let metadata: Logger.Metadata = ["model": .string(model.name), "version": .string(model.version), "path": .string(model.path)]
        switch (model.artifact.info.signer, readOptions.verifyKey) {
        case (nil, nil):
            Self.log.warning("""
                the model is not signed, so nothing shows it is the file that was trained: sign it (`keel train --sign-key-file`, \
                or a registry key from `keel keys generate-signing --registry`) and serve it with --verify-key-file
                """, metadata: metadata)
        case (let signer?, nil):
            Self.log.warning("the model is signed, but its signature is not checked: give the signer's public key with --verify-key-file",
                             metadata: metadata.merging(["signer": .string(signer)]) { _, new in new })
        case (nil, _?):
            Self.log.warning("serving an unsigned model (--allow-unsigned): nothing shows it is the file that was trained", metadata: metadata)
        case (_?, _?):
            break
        }
    }
}

/// A registry version the server will not load: which one, in which stage, and why.
struct RefusedVersion: Error, CustomStringConvertible {
    var version: ModelVersion
    var error: ArtifactError

    var description: String {
        let named = "\(version.stage.rawValue) model \(version.reference)"
        return switch error {
        case .unsigned(let path):
            "\(named) is not signed (\(path)), and this server serves only models signed by the registry's key (or --verify-key-file): "
                + "refusing to serve it; retrain it now that the registry signs what it registers, or start the server with --allow-unsigned "
                + "to serve unsigned models with a warning"
        case .badSignature(let path):
            "\(named) is signed by a key this server does not trust (\(path)): refusing to serve it, even with --allow-unsigned "
                + "(the file was changed or re-signed after registration, or signed before the registry's key was replaced); retrain it "
                + "or restore the registered file"
        default:
            "\(named): \(error)"
        }
    }
}
