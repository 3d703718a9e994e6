/// Request limits: what a client may send before it gets a 4xx instead of an answer.
public struct ServerLimits: Codable, Sendable, Equatable {
    public var maxBodyBytes = 1 << 20
    public var maxRows = 1_000
    public var maxStringLength = 1_024
    /// Refuse (422) a row with a categorical value training never saw, instead of scoring it with a warning.
    public var strictLevels = false

    public init() {}

    public enum CodingKeys: String, CodingKey {
        case maxBodyBytes = "max_body_bytes"
        case maxRows = "max_rows"
        case maxStringLength = "max_string_length"
        case strictLevels = "strict_levels"
    }
}

/// Everything `keel serve` is configured with (flags over `keel.yaml`'s `server:` section over defaults).
public struct ServerSettings: Sendable {
    /// The model file served; ignored when `registryFolder` is set.
    public var modelPath: String
    /// Serve the production version of every model in this registry and follow promotions.
    public var registryFolder: String?
    /// How often a registry-following server looks for promotions and rollbacks.
    public var registryPollSeconds = 1.0
    /// Registry mode: the staging version of each name also scores every request, unseen by the client, and
    /// its predictions are logged under `NAME#shadow` for comparison (needs the prediction log).
    public var shadow = false
    public var host = "127.0.0.1"
    public var port = 8080
    public var limits = ServerLimits()
    /// A connection that sends nothing for this long (mid-request included) is closed.
    public var idleTimeoutSeconds = 30.0
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// The API keys file; when it holds keys, every endpoint but the health checks requires one.
    public var keysPath: String?
    /// The API keys are the followed registry's own (PostgreSQL), read at start and again at every change.
    public var keysFromRegistry = false
    public var logLevel = "info"
    /// Log every (sampled) prediction to a registry's store, for monitoring and feedback.
    public var predictionLog: PredictionLogSettings?
    /// Explanations' pool, row limit and time limit.
    public var explanations = ExplanationLimits()
    /// Whether `/metrics` needs a key (metrics or admin) when keys are in force; nil: open when listening on
    /// loopback only, a key otherwise.
    public var metricsAuth: MetricsAuth?
    /// After SIGTERM, how long in-flight requests may take before the server exits regardless.
    public var drainTimeoutSeconds = 30.0
    /// Where the models' humility rules come from; nil: no rules.
    public var humility: HumilitySource?
    /// File mode: the registry folder the review queue lives in (created when a rule with action review
    /// needs it). Registry mode uses its registry.
    public var reviewRegistryFolder: String?

    public enum MetricsAuth: String, Sendable, CaseIterable { case open, key }

    /// Whether `/metrics` needs a key: as `metricsAuth` says, else only when reachable beyond this machine.
    public var metricsNeedKey: Bool {
        if let metricsAuth { return metricsAuth == .key }
        return !["127.0.0.1", "::1", "localhost"].contains(host)
    }

    public init(modelPath: String) {
        self.modelPath = modelPath
    }
}
