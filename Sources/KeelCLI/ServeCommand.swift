import ArgumentParser
import Foundation
import KeelArtifact
import KeelLifecycle
import KeelRegistry
import KeelServer

/// `keel serve MODEL`: the HTTP prediction server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over HTTP: POST /v1/predict, GET /v1/model, /healthz, /readyz, /metrics, /openapi.json.",
        discussion: """
        Flags override the `server:` section of --config (keel.yaml). When the keys file holds API keys (see \
        `keel keys create`), every endpoint but /healthz and /readyz needs `Authorization: Bearer KEY`. SIGHUP \
        or POST /v1/admin/reload swaps in a new model without dropping requests; SIGTERM finishes in-flight \
        requests and exits 0. --port 0 picks a free port (printed on standard error).

        Signatures: when the registry has a signing key (`keel keys generate-signing --registry`), models served \
        from it (--registry, or NAME@STAGE) are verified against its public key, unless --verify-key-file names \
        another: an unsigned or wrongly signed model stops the server at start, and on a later promotion it is \
        refused with an error in the log while the previous version keeps serving. --allow-unsigned (or \
        allow_unsigned in keel.yaml) serves unsigned models with a warning each; wrongly signed ones are always \
        refused. A registry without a key is served as before, with a warning at start; a model file without \
        --verify-key-file is served with a warning when it is unsigned or its signature goes unchecked.
        """
    )

    @Argument(help: "A model file from `keel train`, or a registered model: NAME, NAME@VERSION or NAME@production.")
    var model: String?

    @Flag(name: .customLong("registry"), help: "Serve the production version of every model in the registry at /v1/models/NAME/predict and follow promotions and rollbacks.")
    var fromRegistry = false

    @Option(name: .customLong("registry-path"), help: ArgumentHelp("The registry: a folder or a postgres:// URL (default: $KEEL_HOME, else ./.keel).", valueName: "path|url"))
    var registryPath: String?

    @Option(help: ArgumentHelp("With --registry: how often to look for promotions, e.g. 1s (default).", valueName: "duration"))
    var poll: DurationArgument?

    @Option(help: ArgumentHelp("With --registry: run `keel retrain NAME --promote` for every production model this often (each model's policy in keel.yaml decides whether it trains); the server follows what gets promoted.", valueName: "duration"))
    var retrainEvery: DurationArgument?

    @Flag(help: "With --registry and prediction logging: the staging version of each model scores every request too, unseen by clients; compare with `keel models shadow NAME`.")
    var shadow = false

    @Flag(help: "Log every prediction into the registry (see `prediction_log:` in keel.yaml for sampling, retention, exclusions and hashing); enables POST /v1/feedback.")
    var logPredictions = false

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default 8080; 0 picks a free one).")
    var port: Int?

    @Option(help: ArgumentHelp("keel.yaml with a `server:` section, and a `humility:` section of rules for the model served (a registry's models come with models.NAME.humility from its keel.yaml).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("API keys file (default $KEEL_HOME/api-keys.json, else .keel/api-keys.json).", valueName: "file"))
    var keysFile: String?

    @Option(help: ArgumentHelp("PEM certificate chain for TLS (with --tls-key).", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key for TLS.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("Close connections idle (or stalled mid-request) this long, e.g. 30s.", valueName: "duration"))
    var idleTimeout: DurationArgument?

    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes: Int?

    @Option(help: "Most rows in one request.")
    var maxRows: Int?

    @Flag(help: "Refuse (422) a row holding a categorical value training never saw; by default it is scored and the prediction carries an unseen_level warning.")
    var strictLevels = false

    @Option(help: "Longest string value in characters.")
    var maxStringLength: Int?

    @Option(help: "trace, debug, info (default: errors and lifecycle), notice, warning, error.")
    var logLevel: String?

    @Option(help: "Most rows in one explanation request (default 200); predictions keep --max-rows.")
    var maxExplainRows: Int?

    @Option(help: ArgumentHelp("Longest an explanation may take, waiting included, e.g. 10s (default); past it the request gets 503.", valueName: "duration"))
    var explainTimeout: DurationArgument?

    @Option(help: ArgumentHelp("open or key: whether /metrics needs a metrics (or admin) key when keys are in force (default: open when listening on loopback only, key otherwise).", valueName: "mode"))
    var metricsAuth: ServerSettings.MetricsAuth?

    @Flag(help: "With a verify key (the registry's, or --verify-key-file): serve unsigned models too, with a warning for each; a model signed by another key is still refused.")
    var allowUnsigned = false

    @OptionGroup var keys: ArtifactReadOptions

    @Option(name: .customLong("pii-key-file"), help: ArgumentHelp("The key models' pseudonymised columns were made with (also pii_key_file in keel.yaml, or KEEL_PII_KEY, base64).", valueName: "file"))
    var piiKeyFile: String?

    func validate() throws {
        if fromRegistry == (model != nil) { throw ValidationError("give a model (a file or NAME@STAGE) or --registry, not both and not neither") }
        if let poll, poll.seconds < 0.05 { throw ValidationError("--poll must be at least 50ms") }
        if shadow && !fromRegistry { throw ValidationError("--shadow needs --registry (the staging versions shadow the production ones)") }
        if let retrainEvery {
            guard fromRegistry else { throw ValidationError("--retrain-every needs --registry") }
            guard retrainEvery.seconds >= 1 else { throw ValidationError("--retrain-every must be at least 1s") }
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0 to 65535") }
        for (name, value) in [("--max-body-bytes", maxBodyBytes), ("--max-rows", maxRows), ("--max-string-length", maxStringLength)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1") }
        }
    }

    func run() async throws {
        let file = try config.map(ServeConfig.read)
        var registry = RegistryOptions()
        registry.registry = registryPath
        var modelPath: String?
        if let model { modelPath = try await registry.modelPath(model) }
        var settings = ServerSettings(modelPath: modelPath ?? "")
        if fromRegistry { settings.registryFolder = registry.folder }
        if let poll { settings.registryPollSeconds = poll.seconds }
        settings.host = host ?? file?.host ?? settings.host
        settings.port = port ?? file?.port ?? settings.port
        if let limits = file?.limits { settings.limits = limits }
        if let maxBodyBytes { settings.limits.maxBodyBytes = maxBodyBytes }
        if let maxRows { settings.limits.maxRows = maxRows }
        if let maxStringLength { settings.limits.maxStringLength = maxStringLength }
        if strictLevels { settings.limits.strictLevels = true }
        if let idleTimeout {
            settings.idleTimeoutSeconds = idleTimeout.seconds
        } else if let text = file?.idleTimeout {
            guard let seconds = DurationArgument.parse(text) else { throw ValidationError("idle_timeout must be a duration such as 30s, not '\(text)'") }
            settings.idleTimeoutSeconds = seconds
        }
        settings.tlsCertificatePath = tlsCert ?? file?.tls?.certificate
        settings.tlsKeyPath = tlsKey ?? file?.tls?.key
        if fromRegistry, RegistryStores.isDatabase(registry.folder), keysFile == nil, file?.keysFile == nil {
            // A registry on PostgreSQL holds the keys every server following it accepts (`keel keys … --registry URL`).
            settings.keysFromRegistry = true
        } else {
            settings.keysPath = keysFile ?? file?.keysFile ?? APIKeyStore.defaultPath()
        }
        settings.logLevel = logLevel ?? file?.logLevel ?? settings.logLevel
        settings.predictionLog = try predictionLogSettings(file?.predictionLog, registry: registry.folder)
        if shadow && settings.predictionLog == nil { throw ValidationError("--shadow needs prediction logging (--log-predictions or prediction_log in keel.yaml): shadow answers go only to the log") }
        settings.shadow = shadow
        if let limits = file?.explanations { settings.explanations = limits }
        if let maxExplainRows { settings.explanations.maxRows = maxExplainRows }
        if let explainTimeout { settings.explanations.timeLimitSeconds = explainTimeout.seconds }
        guard settings.explanations.maxRows >= 1, settings.explanations.timeLimitSeconds > 0 else {
            throw ValidationError("--max-explain-rows must be at least 1 and --explain-timeout positive")
        }
        settings.metricsAuth = metricsAuth ?? file?.metricsAuth
        if let text = file?.drainTimeout {
            guard let seconds = DurationArgument.parse(text) else { throw ValidationError("drain_timeout must be a duration such as 30s, not '\(text)'") }
            settings.drainTimeoutSeconds = seconds
        }
        // Models from a registry (all of them, or one by reference) are verified against its key when it has one.
        var readOptions = try keys.readOptions()
        let registryVerifies = readOptions.verifyKey == nil && (fromRegistry || modelPath != model)
        if registryVerifies { readOptions.verifyKey = try await RegistryStores.verifyKey(registry.folder) }
        readOptions.allowUnsigned = allowUnsigned || file?.allowUnsigned == true
        readOptions.pseudonymKey = try KeyedHasher.personalDataKey(file: piiKeyFile ?? file?.piiKeyFile)
        if registryVerifies, let model, let modelPath, modelPath != model { try checkSignature(of: model, at: modelPath, readOptions) }
        settings.humility = try await humilitySource(registry: registry, modelPath: modelPath)
        settings.reviewRegistryFolder = registry.folder
        let retrainer = retrainEvery.map { RetrainJob(registry: registry.folder, every: $0.seconds, report: { Terminal.progress($0) }).start() }
        defer { retrainer?.cancel() }
        try await PredictionServer.run(settings: settings, readOptions: readOptions) { url in
            Terminal.progress("listening on \(url)")
        }
    }

    /// Where the humility rules come from: the `humility:` section of --config for the one model served;
    /// else the registry's keel.yaml (`models.NAME.humility`) when following the registry or serving a
    /// registered model by reference. Read once here, so that a bad file stops the server at start.
    private func humilitySource(registry: RegistryOptions, modelPath: String?) async throws -> HumilitySource? {
        if let config, try ServeConfig.humility(config) != nil {
            return .file(config, origin: "\(config) (humility:)") { path, bytes in
                HumilitySource.Table(anyModel: try ServeConfig.humility(path, bytes: bytes) ?? [])
            }
        }
        if RegistryStores.isDatabase(registry.folder), fromRegistry || (model != nil && modelPath != model) {
            // keel.yaml of a registry on PostgreSQL: fetched at start and again whenever the server follows a change.
            guard let store = try await registry.open() as? PostgresStore else { return nil }
            let origin = "keel.yaml in \(store.location)"
            let name = fromRegistry ? nil : model.flatMap(ModelReference.init)?.name
            return .fetched(origin: origin + (name.map { " (models.\($0).humility)" } ?? " (models.NAME.humility)"),
                            initial: try await store.configurationFile("keel.yaml"),
                            fetch: { try await store.configurationFile("keel.yaml") }) { bytes in
                let table = try RegistryConfig.read(origin, text: String(decoding: bytes, as: UTF8.self))
                return name.map { HumilitySource.Table(anyModel: table.humility(for: $0) ?? []) } ?? table.humilityTable
            }
        }
        let yaml = registry.folder + "/keel.yaml"
        if fromRegistry {
            return .file(yaml, origin: "\(yaml) (models.NAME.humility)") { path, bytes in
                try RegistryConfig.read(path, text: String(decoding: bytes, as: UTF8.self)).humilityTable
            }
        }
        if let model, let modelPath, modelPath != model, let reference = ModelReference(model) {
            let name = reference.name
            return .file(yaml, origin: "\(yaml) (models.\(name).humility)") { path, bytes in
                HumilitySource.Table(anyModel: try RegistryConfig.read(path, text: String(decoding: bytes, as: UTF8.self)).humility(for: name) ?? [])
            }
        }
        return nil
    }

    /// A registered model served by reference: a refused signature names the reference and the flag.
    private func checkSignature(of reference: String, at path: String, _ options: Artifact.ReadOptions) throws {
        guard options.verifyKey != nil else { return }
        do {
            _ = try Artifact.inspect(path, options: options)
        } catch ArtifactError.unsigned {
            throw RegistryError.invalid("\(reference) is not signed (\(path)), and the registry's signing key verifies what is served from it: refusing to serve it; retrain it, or add --allow-unsigned to serve it with a warning")
        } catch ArtifactError.badSignature {
            throw RegistryError.invalid("\(reference) is signed by a key the registry does not trust (\(path)): refusing to serve it, even with --allow-unsigned")
        }
    }

    private func predictionLogSettings(_ config: ServeConfig.PredictionLogConfig?, registry folder: String) throws -> PredictionLogSettings? {
        guard logPredictions || config?.enabled == true else { return nil }
        var settings = PredictionLogSettings(registryFolder: folder)
        guard let config else { return settings }
        if let rate = config.sampleRate {
            guard rate > 0 && rate <= 1 else { throw ValidationError("prediction_log.sample_rate must be in (0, 1], not \(rate)") }
            settings.sampleRate = rate
        }
        if let text = config.retention {
            guard let seconds = DurationArgument.parse(text), seconds > 0 else { throw ValidationError("prediction_log.retention must be a duration such as 30d, not '\(text)'") }
            settings.retentionSeconds = seconds
        }
        if let capacity = config.queueCapacity {
            guard capacity >= 1 else { throw ValidationError("prediction_log.queue_capacity must be at least 1") }
            settings.queueCapacity = capacity
        }
        settings.excluded = Set(config.exclude)
        settings.hashed = Set(config.hash)
        if let file = config.hashKeyFile {
            settings.hashKey = try KeyedHasher(file: file)
        } else if let key = ProcessInfo.processInfo.environment["KEEL_LOG_HASH_KEY"] {
            settings.hashKey = try KeyedHasher(base64: key)
        }
        return settings
    }
}

extension ServerSettings.MetricsAuth: ExpressibleByArgument {}
