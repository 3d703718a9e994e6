import KeelRegistry
import Synchronization

/// The model currently served and the API keys in force. A swap replaces the reference atomically:
/// requests that already took the old model finish on it, new ones get the new one.
final class ModelSlot: Sendable {
    private let state: Mutex<(model: LoadedModel, keys: APIKeyStore?)>
    let readOptions: Artifact.ReadOptions
    let limits: ServerLimits
    let keysPath: String?

    init(model: LoadedModel, keys: APIKeyStore?, readOptions: Artifact.ReadOptions, limits: ServerLimits, keysPath: String?) {
        state = Mutex((model, keys))
        self.readOptions = readOptions
        self.limits = limits
        self.keysPath = keysPath
    }

    var model: LoadedModel { state.withLock { $0.model } }
    var keys: APIKeyStore? { state.withLock { $0.keys } }

    /// Loads the model at `path` (default: the current model's path) and the keys file, then swaps both in.
    /// On any error the running model stays in place.
    func reload(path: String? = nil) throws -> (old: LoadedModel, new: LoadedModel) {
        let current = model
        let fresh = try LoadedModel(path: path ?? current.path, options: readOptions, limits: limits)
        let keys = try keysPath.map(APIKeyStore.init(path:))
        let old = state.withLock { state in
            let old = state.model
            state = (fresh, keys)
            return old
        }
        return (old, fresh)
    }
}
