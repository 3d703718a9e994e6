import Dispatch
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KeelArtifact
import KeelData
import KeelExplain
import KeelLearn
import KeelRegistry
import Logging
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// `keel serve`: the HTTP prediction server. Graceful shutdown on SIGTERM/SIGINT (in-flight requests
/// finish), model and key reload on SIGHUP or `POST /v1/admin/reload`.
public enum PredictionServer {
    /// Runs Swift concurrency on SwiftNIO's event loops, so a request never hops between NIO's threads and
    /// the concurrency pool (on two cores that hop cost more than the prediction). Call once, first thing
    /// in `main`, before any task is started; false when the hook could not be installed.
    @discardableResult
    public static func shareEventLoopsWithConcurrency() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// Starts serving and returns when the server has shut down. `onListening` receives the bound address
    /// (useful with port 0).
    public static func run(settings: ServerSettings, readOptions: Artifact.ReadOptions,
                           onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        LogfmtHandler.bootstrap()
        var configured = Logger(label: "keel.server")
        configured.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
        let logger = configured
        var keys = try settings.keysPath.map(APIKeyStore.init(path:))
        let slot: ModelSlot
        let reviews: ReviewQueue
        var follower: Task<Void, Never>?
        // Rules that do not parse or do not fit their model stop the server here, named.
        let rules: (table: HumilitySource.Table, fingerprint: [UInt8]?)
        do {
            rules = try ModelSlot.readRules(settings.humility)
        } catch let error as APIError {
            throw HumilityStartError(message: error.message)
        }
        let reviewing = (rules.table.byName.values.flatMap { $0 } + rules.table.anyModel).contains { $0.action == .review }
        if let folder = settings.registryFolder {
            let registry = try await RegistryStores.open(folder, create: false)
            if settings.keysFromRegistry { keys = try await (registry as? PostgresStore)?.apiKeyStore() }
            slot = ModelSlot(models: [], source: .registry(registry), keys: keys, readOptions: readOptions, limits: settings.limits,
                             keysPath: settings.keysPath, keysFromRegistry: settings.keysFromRegistry, shadowing: settings.shadow,
                             humility: settings.humility, rules: rules)
            reviews = ReviewQueue(store: registry, folder: nil)
            try await offLoop { try await recordSwaps(try await slot.sync(), registry: registry, logger: logger, trigger: "start") }
            follower = follow(registry, slot: slot, every: settings.registryPollSeconds, logger: logger)
        } else {
            var model = try LoadedModel(path: settings.modelPath, options: readOptions, limits: settings.limits)
            do {
                model = try model.with(rules: rules.table.rules(for: model.name))
            } catch let error as HumilityError {
                throw HumilityStartError(message: "the humility rules in \(settings.humility?.origin ?? "the settings") do not fit \(model.name): \(error)")
            }
            slot = ModelSlot(models: [model], source: .file, keys: keys, readOptions: readOptions, limits: settings.limits, keysPath: settings.keysPath,
                             humility: settings.humility, rules: rules)
            reviews = ReviewQueue(store: nil, folder: settings.reviewRegistryFolder)
            if reviewing {
                do {
                    _ = try await reviews.forQueueing()
                } catch {
                    throw HumilityStartError(message: "a humility rule has action review, and the review queue's registry could not be opened: \(error)")
                }
            }
        }
        defer { follower?.cancel() }
        var predictionLogger: PredictionLogger?
        if let log = settings.predictionLog {
            // One store for the server: the log of a server following a registry goes to that registry.
            let shared = log.registryFolder == settings.registryFolder ? slot.registry : nil
            predictionLogger = try await PredictionLogger(settings: log, registry: shared)
        }
        let logWriter = predictionLogger.map { writer in Task(executorPreference: LowPriorityWorkers.loader) { await writer.run(logger: logger) } }
        let explanations = ExplanationPool(settings.explanations)
        let router = makeRouter(slot: slot, logger: logger, predictionLog: predictionLogger,
                                authorization: Authorization(metricsNeedKey: settings.metricsNeedKey), explanations: explanations, reviews: reviews)
        if keys?.isEmpty ?? true {
            let place = settings.keysFromRegistry ? "the registry" : settings.keysPath ?? "-"
            let command = settings.keysFromRegistry ? "`keel keys create --role predict --registry URL`" : "`keel keys create --role predict`"
            logger.warning("no API keys in \(place): every endpoint is open (create one with \(command))")
        }

        let http = HTTP1Channel.Configuration(additionalChannelHandlers: [MalformedRequestResponderInstaller(), ConnectionWatch()],
                                              idleTimeout: .milliseconds(Int64(settings.idleTimeoutSeconds * 1000)))
        let server: HTTPServerBuilder
        let scheme: String
        if let certificate = settings.tlsCertificatePath, let key = settings.tlsKeyPath {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            server = try .tls(.http1(configuration: http), tlsConfiguration: tls)
            scheme = "https"
        } else {
            server = .http1(configuration: http)
            scheme = "http"
        }
        let hangup = installHangupHandler(slot: slot, logger: logger)
        defer { hangup.cancel() }
        let termination = installTerminationHandlers(explanations: explanations, drainSeconds: settings.drainTimeoutSeconds, logger: logger)
        defer { termination.forEach { $0.cancel() } }
        let app = Application(
            router: router, server: server,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "keel"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                let served = slot.models.values.sorted { $0.name < $1.name }.map { "\($0.name)@\($0.version)" }.joined(separator: ",")
                logger.info("serving", metadata: ["url": .string("\(scheme)://\(settings.host):\(port)"), "models": .string(served)])
                onListening("\(scheme)://\(settings.host):\(port)")
            },
            logger: logger
        )
        try await app.runService()
        // A registry sync on the loader thread (its swap already served) may still be writing its audit entry:
        // the loader runs one job at a time, so an empty job after it waits for that entry.
        _ = try? await LowPriorityWorkers.loader.run {}
        // In-flight requests have finished: write what they logged before exiting.
        logWriter?.cancel()
        await logWriter?.value
    }

    typealias Handler = @Sendable (Request, KeelRequestContext) async throws -> Response

    /// The router: every route of `Routes.all` with its handler, behind the access its entry declares. The
    /// check runs after the router matched the route, so a path's shape never decides who may call it, and
    /// a path no route has answers the same 404 to everyone.
    static func makeRouter(slot: ModelSlot, logger: Logger, predictionLog: PredictionLogger? = nil,
                           authorization: Authorization = Authorization(metricsNeedKey: false),
                           explanations: ExplanationPool = ExplanationPool(), reviews: ReviewQueue = ReviewQueue(store: nil, folder: nil)) -> Router<KeelRequestContext> {
        let router = Router(context: KeelRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestHandlingMiddleware(logger: logger))
        let handlers = self.handlers(slot: slot, logger: logger, predictionLog: predictionLog, authorization: authorization, explanations: explanations,
                                     reviews: reviews)
        for route in Routes.all {
            guard let handler = handlers[route.method.rawValue + " " + route.path] else {
                preconditionFailure("no handler for \(route.method.rawValue) \(route.path)")
            }
            router.on(RouterPath(route.routerPath), method: route.method) { request, context in
                try authorization.check(request, route: route, keys: slot.keys)
                return try await handler(request, context)
            }
        }
        return router
    }

    /// The handlers, keyed by "METHOD path" as `Routes.all` spells them.
    private static func handlers(slot: ModelSlot, logger: Logger, predictionLog: PredictionLogger?, authorization: Authorization,
                                 explanations: ExplanationPool, reviews: ReviewQueue) -> [String: Handler] {
        let document: @Sendable () -> OpenAPIDocument = {
            OpenAPIDocument(slot: slot, authorization: authorization, explanations: explanations.settings, feedbackEnabled: predictionLog != nil)
        }
        // Every route has its operation in the document, or the server does not start.
        _ = document().document()
        return [
            "GET /healthz": { _, _ in json(#"{"status":"ok"}"#) },
            "GET /readyz": { _, _ in
                let models = slot.models.values.sorted { $0.name < $1.name }
                guard !models.isEmpty else { throw APIError(.serviceUnavailable, "not_ready", "no model is in production in the registry yet") }
                if case .file = slot.source { return json(#"{"status":"ready","model":\#(models[0].identityJSON)}"#) }
                return json(#"{"status":"ready","models":[\#(models.map(\.identityJSON).joined(separator: ","))]}"#)
            },
            "POST /v1/predict": { request, context in
                let model = try slot.primary()
                return try await predict(request, context: context, model: model, limits: slot.limits, log: predictionLog, shadow: slot.shadow(of: model.name),
                                         reviews: reviews)
            },
            "POST /v1/explain": { request, context in
                try await explain(request, context: context, model: try slot.primary(), limits: slot.limits, pool: explanations)
            },
            "POST /v1/feedback": { request, context in
                try await feedback(request, context: context, slot: slot, log: predictionLog)
            },
            "GET /v1/model": { _, _ in json(try slot.primary().manifestJSON()) },
            "GET /v1/models": { _, _ in
                json("[" + slot.models.values.sorted { $0.name < $1.name }.map(\.identityJSON).joined(separator: ",") + "]")
            },
            "GET /v1/models/{name}": { _, context in json(try slot.model(named: context.parameters.require("name")).manifestJSON()) },
            "POST /v1/models/{name}/predict": { request, context in
                let model = try slot.model(named: context.parameters.require("name"))
                return try await predict(request, context: context, model: model, limits: slot.limits, log: predictionLog, shadow: slot.shadow(of: model.name),
                                         reviews: reviews)
            },
            "POST /v1/models/{name}/explain": { request, context in
                try await explain(request, context: context, model: try slot.model(named: context.parameters.require("name")), limits: slot.limits,
                                  pool: explanations)
            },
            "GET /v1/review": { request, _ in try await listReviews(request, store: await reviews.forReading()) },
            "POST /v1/review/{id}": { request, context in
                try await decideReview(request, context: context, slot: slot, store: await reviews.forReading())
            },
            "POST /v1/admin/reload": { request, context in
                var request = request
                let body = try await collect(&request, limit: slot.limits.maxBodyBytes)
                var path: String?
                if body.readableBytes > 0 {
                    let value = try parse(body)
                    guard case .object(let members) = value else {
                        throw APIError(.badRequest, "invalid_body", "the body must be {} or {\"model\": \"path/to/model.keel\"}")
                    }
                    for (key, item) in members {
                        guard key == "model", case .string(let text) = item else {
                            throw APIError(.unprocessableContent, "unknown_field", "only \"model\" (a path string) may be given", field: key)
                        }
                        path = text
                    }
                }
                // Loading and decoding a model takes up to a second: never on an event loop.
                let (requestID, file) = (context.requestID, path)
                let changes = try await offLoop { try await reload(slot: slot, path: file, logger: logger, requestID: requestID) }
                if case .file = slot.source, let change = changes.first, let new = change.new, let old = change.old {
                    return json(#"{"model":\#(new.identityJSON),"previous":\#(old.identityJSON)}"#)
                }
                let items = changes.map { #"{"model":\#($0.new?.identityJSON ?? "null"),"previous":\#($0.old?.identityJSON ?? "null")}"# }
                return json(#"{"changes":[\#(items.joined(separator: ","))]}"#)
            },
            "GET /metrics": { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                         body: .init(byteBuffer: ByteBuffer(string: ServerMetrics.shared.render())))
            },
            "GET /openapi.json": { _, _ in json(document().render()) },
            "GET /docs": { _, _ in
                Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(string: APIPage.render(document().render()))))
            },
        ]
    }

    /// Runs `work` on the low-priority loader thread rather than on an event loop (where Swift concurrency
    /// runs in this server): loading a model or reading a registry blocks for as long as it takes. Async
    /// work runs there too, between its suspensions.
    static func offLoop<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(LowPriorityWorkers.loader) { try await work() }
    }

    static func reload(slot: ModelSlot, path: String?, logger: Logger, requestID: String?) async throws -> [(old: LoadedModel?, new: LoadedModel?)] {
        do {
            let changes = try await slot.reload(path: path)
            ServerMetrics.shared.reload(succeeded: true)
            if case .registry(let registry) = slot.source {
                try await recordSwaps(changes, registry: registry, logger: logger, trigger: requestID ?? "reload")
            }
            for change in changes {
                logger.info("model reloaded", metadata: [
                    "request_id": .string(requestID ?? "-"), "model": .string(change.new?.name ?? change.old?.name ?? "-"),
                    "version": .string(change.new?.version ?? "-"), "previous_version": .string(change.old?.version ?? "-"),
                ])
            }
            return changes
        } catch let error as APIError {
            throw error
        } catch {
            ServerMetrics.shared.reload(succeeded: false)
            logger.error("model reload failed; still serving the previous model", metadata: ["error": .string(String(describing: error))])
            throw APIError(.unprocessableContent, "reload_failed", "the model could not be loaded, the previous one stays in service: \(error)")
        }
    }

    /// Looks for promotions and rollbacks every `interval` seconds, and at once when a database registry
    /// notifies a change, and swaps the changed models in. Wake-ups that come while a sync runs make one
    /// more sync, not one each.
    private static func follow(_ registry: any RegistryStore, slot: ModelSlot, every interval: Double, logger: Logger) -> Task<Void, Never> {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let listener = (registry as? PostgresStore)?.followChanges(changed: { wake.yield() }, failed: { reason in
            logger.warning("not hearing the registry's change notifications; following it by polling every \(NumberFormatting.canonical(interval)) s",
                           metadata: ["error": .string(reason)])
        })
        let poller = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                wake.yield()
            }
        }
        return Task {
            defer {
                listener?.cancel()
                poller.cancel()
            }
            for await _ in wakeups {
                if Task.isCancelled { break }
                do {
                    // Reading the registry, loading models and auditing block: off the event loops; the swap is one step.
                    try await offLoop { try await recordSwaps(try await slot.sync(strict: false), registry: registry, logger: logger, trigger: "registry") }
                } catch {
                    logger.error("could not follow the registry; still serving the current models", metadata: ["error": .string(String(describing: error))])
                }
            }
        }
    }

    /// Logs each swap and appends it to the registry's audit log, so the log says what production served when.
    private static func recordSwaps(_ changes: [(old: LoadedModel?, new: LoadedModel?)], registry: any RegistryStore, logger: Logger, trigger: String) async throws {
        for change in changes {
            let name = change.new?.name ?? change.old?.name ?? "-"
            let subject = change.new.map { "\($0.name)@\($0.version)" } ?? name
            logger.info("serving model", metadata: ["model": .string(name), "version": .string(change.new?.version ?? "none"),
                                                    "previous_version": .string(change.old?.version ?? "none"), "trigger": .string(trigger)])
            try await registry.audit(actor: "server", action: "server.reload", subject: subject,
                               details: ["previous": change.old.map { "\($0.name)@\($0.version)" } ?? "none", "trigger": trigger])
        }
    }

    /// On SIGTERM or SIGINT (beside the graceful shutdown the server runs, which lets in-flight requests
    /// finish): explanations stop at their next chunk, and if requests are still running after the drain
    /// timeout, the process exits anyway.
    private static func installTerminationHandlers(explanations: ExplanationPool, drainSeconds: Double, logger: Logger) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                explanations.shutDown()
                DispatchQueue.global().asyncAfter(deadline: .now() + drainSeconds) {
                    logger.warning("requests still running \(NumberFormatting.canonical(drainSeconds)) s after the signal to stop (server.drain_timeout); exiting")
                    exit(0)
                }
            }
            source.resume()
            return source
        }
    }

    /// SIGHUP reloads the model file (and the keys file) in place, the usual daemon convention.
    private static func installHangupHandler(slot: ModelSlot, logger: Logger) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            Task { _ = try? await offLoop { try await reload(slot: slot, path: nil, logger: logger, requestID: "SIGHUP") } }
        }
        source.resume()
        return source
    }

}

/// Humility rules that stop a server at start: the message names the source and the key.
struct HumilityStartError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
