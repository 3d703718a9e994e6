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
        let keys = try settings.keysPath.map(APIKeyStore.init(path:))
        let slot: ModelSlot
        var follower: Task<Void, Never>?
        if let folder = settings.registryFolder {
            let registry = try Registry(folder: folder, create: false)
            slot = ModelSlot(models: [], source: .registry(registry), keys: keys, readOptions: readOptions, limits: settings.limits,
                             keysPath: settings.keysPath, shadowing: settings.shadow)
            try recordSwaps(try slot.sync(), registry: registry, logger: logger, trigger: "start")
            follower = follow(registry, slot: slot, every: settings.registryPollSeconds, logger: logger)
        } else {
            let model = try LoadedModel(path: settings.modelPath, options: readOptions, limits: settings.limits)
            slot = ModelSlot(models: [model], source: .file, keys: keys, readOptions: readOptions, limits: settings.limits, keysPath: settings.keysPath)
        }
        defer { follower?.cancel() }
        let predictionLogger = try settings.predictionLog.map(PredictionLogger.init(settings:))
        let logWriter = predictionLogger.map { writer in Task { await writer.run(logger: logger) } }
        let explanations = ExplanationPool(settings.explanations)
        let router = makeRouter(slot: slot, logger: logger, predictionLog: predictionLogger,
                                authorization: Authorization(metricsNeedKey: settings.metricsNeedKey), explanations: explanations)
        if keys?.isEmpty ?? true {
            logger.warning("no API keys in \(settings.keysPath ?? "-"): every endpoint is open (create one with `keel keys create --role predict`)")
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
                           explanations: ExplanationPool = ExplanationPool()) -> Router<KeelRequestContext> {
        let router = Router(context: KeelRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestHandlingMiddleware(logger: logger))
        let handlers = self.handlers(slot: slot, logger: logger, predictionLog: predictionLog, authorization: authorization, explanations: explanations)
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
                                 explanations: ExplanationPool) -> [String: Handler] {
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
                return try await predict(request, context: context, model: model, limits: slot.limits, log: predictionLog, shadow: slot.shadow(of: model.name))
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
                return try await predict(request, context: context, model: model, limits: slot.limits, log: predictionLog, shadow: slot.shadow(of: model.name))
            },
            "POST /v1/models/{name}/explain": { request, context in
                try await explain(request, context: context, model: try slot.model(named: context.parameters.require("name")), limits: slot.limits,
                                  pool: explanations)
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
                let changes = try await offLoop { try reload(slot: slot, path: file, logger: logger, requestID: requestID) }
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
    /// runs in this server): loading a model or reading a registry blocks for as long as it takes.
    static func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await LowPriorityWorkers.loader.run(work)
    }

    // MARK: Handlers

    /// The caller takes the model once: a reload during this request does not change what answers it.
    static func predict(_ request: Request, context: KeelRequestContext, model: LoadedModel, limits: ServerLimits,
                        log: PredictionLogger? = nil, shadow: LoadedModel? = nil) async throws -> Response {
        var request = request
        let body = try await collect(&request, limit: limits.maxBodyBytes)
        let rows = try model.decoder.rows(of: try parse(body))
        let frame = try model.decoder.frame(rows)
        // Where a prediction rests on a guess (an unseen level, a value past the training range, a missing
        // value never missing in training), it says so; --strict-levels refuses unseen levels instead.
        let warnings = model.expectations.warnings(frame)
        if limits.strictLevels, let (row, unseen) = warnings.enumerated().lazy.compactMap({ row, list in list.first { $0.code == .unseenLevel }.map { (row, $0) } }).first {
            throw APIError(.unprocessableContent, "unseen_level", unseen.message + " (the server runs with --strict-levels)",
                           row: warnings.count > 1 ? row : nil, field: unseen.field)
        }
        let predictions: [TrainedModel.Prediction]
        do {
            predictions = try model.artifact.model.predict(frame)
        } catch {
            throw APIError(.unprocessableContent, "invalid_input", String(describing: error))
        }
        // Finite inputs so far outside training that the model's arithmetic overflows (a linear model's margin)
        // have no answer to give: refused, never answered with null.
        if let row = predictions.firstIndex(where: { !($0.value ?? 0).isFinite || $0.probabilities.contains { !$0.isFinite } }) {
            throw APIError(.unprocessableContent, "not_finite_result",
                           "the prediction is not a finite number: the row's values are too far outside the training range for this model",
                           row: predictions.count > 1 ? row : nil)
        }
        ServerMetrics.shared.inputWarnings(warnings)
        var writer = JSONWriter(capacity: 128 + predictions.count * (40 + 32 * model.classes.count))
        writer.beginObject()
        writer.key("model"); writer.raw(model.identityJSON)
        writer.key("request_id"); writer.string(context.requestID)
        writer.key("predictions")
        writer.beginArray()
        var counts: [String: Int] = [:]
        var confidences: [Double] = []
        var values: [Double] = []
        for (index, prediction) in predictions.enumerated() {
            writer.beginObject()
            writer.key("warnings")
            writer.beginArray()
            for warning in warnings[index] {
                writer.beginObject()
                writer.key("code"); writer.string(warning.code.rawValue)
                writer.key("field"); writer.string(warning.field)
                writer.key("value"); writer.string(warning.value)
                writer.key("message"); writer.string(warning.message)
                writer.endObject()
            }
            writer.endArray()
            writer.key("prediction")
            if model.isClassifier {
                writer.string(prediction.label)
                writer.key("probabilities")
                writer.beginObject()
                for (c, p) in prediction.probabilities.enumerated() {
                    writer.key(model.classes[c])
                    writer.number(p)
                }
                writer.endObject()
                counts[prediction.label, default: 0] += 1
                confidences.append(prediction.probabilities.max() ?? 0)
            } else {
                writer.number(prediction.value ?? .nan)
                values.append(prediction.value ?? .nan)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        ServerMetrics.shared.predictions(classCounts: counts, confidences: confidences, values: values)
        if let log, log.samples() {
            let now = Date().timeIntervalSince1970
            let trained = model.artifact.model
            log.offer(zip(rows, predictions).enumerated().map { index, pair in
                let (inputs, subject) = log.inputs(pair.0, idColumn: model.idColumn)
                return PredictionRecord(model: model.name, version: model.version, requestID: context.requestID, row: index, time: now,
                                        inputs: inputs, prediction: pair.1.label, score: trained.monitoredScore(pair.1), subject: subject)
            })
            // The challenger answers the same rows after the client has its response; only the log sees it.
            if let shadow {
                let requestID = context.requestID
                Task.detached {
                    guard let answers = try? shadow.artifact.model.predict(frame) else { return }
                    log.offer(answers.enumerated().map { index, answer in
                        PredictionRecord(model: model.name + PredictionRecord.shadowSuffix, version: shadow.version, requestID: requestID, row: index,
                                         time: now, inputs: "{}", prediction: answer.label, score: shadow.artifact.model.monitoredScore(answer), subject: nil)
                    })
                }
            }
        }
        return json(writer.text)
    }

    /// `POST /v1/feedback`: ground truth for earlier predictions, by request id and row:
    /// `{"request_id": "…", "row": 0, "label": "yes"}` or `{"feedback": [ … ]}`.
    static func feedback(_ request: Request, context: KeelRequestContext, slot: ModelSlot, log: PredictionLogger?) async throws -> Response {
        guard let log else {
            throw APIError(.notFound, "feedback_disabled", "this server does not log predictions, so there is nothing to attach labels to (enable prediction_log)")
        }
        var request = request
        let body = try parse(try await collect(&request, limit: slot.limits.maxBodyBytes))
        guard case .object(let members) = body else { throw APIError(.badRequest, "invalid_body", "the body must be a JSON object") }
        var items: [[(key: String, value: JSONValue)]] = []
        if members.count == 1, members[0].key == "feedback" {
            guard case .array(let array) = members[0].value, !array.isEmpty, array.count <= slot.limits.maxRows else {
                throw APIError(.unprocessableContent, "invalid_field", "feedback must be an array of 1 to \(slot.limits.maxRows) objects", field: "feedback")
            }
            for (index, item) in array.enumerated() {
                guard case .object(let fields) = item else { throw APIError(.unprocessableContent, "invalid_field", "feedback[\(index)] must be an object", field: "feedback") }
                items.append(fields)
            }
        } else {
            items = [members]
        }
        let now = Date().timeIntervalSince1970
        var accepted = 0
        for (index, fields) in items.enumerated() {
            var requestID: String?, row = 0, label: String?
            for (key, value) in fields {
                switch (key, value) {
                case ("request_id", .string(let text)) where !text.isEmpty && RowDecoder.length(text) <= 200: requestID = text
                case ("row", .number(let x)) where x >= 0 && x == x.rounded() && x < 1e9: row = Int(x)
                case ("label", .string(let text)) where RowDecoder.length(text) <= slot.limits.maxStringLength: label = text
                case ("label", .number(let x)): label = NumberFormatting.canonical(x)
                case ("label", .bool(let b)): label = b ? "true" : "false"
                case ("request_id", _), ("row", _), ("label", _):
                    throw APIError(.unprocessableContent, "invalid_field", "\(key) has the wrong type or range", row: items.count > 1 ? index : nil, field: key)
                default:
                    throw APIError(.unprocessableContent, "unknown_field", "unknown field '\(key)'; feedback takes request_id, row and label", row: items.count > 1 ? index : nil, field: key)
                }
            }
            guard let requestID else { throw APIError(.unprocessableContent, "missing_field", "request_id is required", row: items.count > 1 ? index : nil, field: "request_id") }
            guard let label else { throw APIError(.unprocessableContent, "missing_field", "label is required", row: items.count > 1 ? index : nil, field: "label") }
            let known: Bool
            do {
                known = try log.registry.recordFeedback(requestID: requestID, row: row, label: label, time: now)
            } catch {
                throw APIError(.serviceUnavailable, "store_unavailable", "the feedback could not be stored: \(error)")
            }
            guard known else {
                throw APIError(.notFound, "unknown_prediction", "no logged prediction has request_id '\(requestID)' and row \(row) (not sampled, not yet written, or expired)",
                               row: items.count > 1 ? index : nil, field: "request_id")
            }
            accepted += 1
        }
        return json(#"{"accepted":\#(accepted)}"#)
    }

    /// Attributions and reason codes for the posted rows; `?top_k=N` sets the reasons per direction. Runs
    /// on the explanation pool in chunks of rows, within its row and time limits.
    static func explain(_ request: Request, context: KeelRequestContext, model: LoadedModel, limits: ServerLimits,
                        pool: ExplanationPool) async throws -> Response {
        let topK: Int
        if let text = request.uri.queryParameters["top_k"] {
            guard let value = Int(text), (1...50).contains(value) else {
                throw APIError(.unprocessableContent, "invalid_parameter", "top_k must be a whole number from 1 to 50, not '\(APIError.truncated(text))'", field: "top_k")
            }
            topK = value
        } else {
            topK = 3
        }
        var request = request
        let body = try await collect(&request, limit: limits.maxBodyBytes)
        // Everything after reading the body (parsing, the explanation, encoding the answer) runs on the pool:
        // a 200-row explanation's JSON alone would hold an event loop for milliseconds.
        let requestID = context.requestID
        let maxRows = pool.settings.maxRows, timeLimit = pool.settings.timeLimitSeconds
        do {
            let channel = context.channel
            let gone = channel.flatMap(ConnectionWatch.clientGone)
            let text = try await pool.run(clientGone: { gone?.isSet == true || channel.map { !$0.isActive } ?? false }) { check in
                let rows = try model.decoder.rows(of: try parse(body))
                guard rows.count <= maxRows else {
                    throw APIError(.unprocessableContent, "too_many_rows",
                                   "\(rows.count) rows to explain in one request; the limit is \(maxRows) (--max-explain-rows)", field: "rows")
                }
                let frame = try model.decoder.frame(rows)
                // The same computation and the same encoding as `keel explain --json`: one Explanation, rendered
                // here. Rows are explained alone, so chunks give the same numbers as one batch.
                var all: Explanation?
                for start in stride(from: 0, to: frame.rowCount, by: Self.explainChunk) {
                    do {
                        try check()
                    } catch ExplanationPool.Stop.timeout {
                        throw APIError(.serviceUnavailable, "explanation_timeout",
                                       "explaining \(frame.rowCount) rows took longer than \(NumberFormatting.canonical(timeLimit)) s (--explain-timeout); send fewer rows at once")
                    }
                    let chunk = Array(start..<min(start + Self.explainChunk, frame.rowCount))
                    var part: Explanation
                    do {
                        part = try Explainer.explain(model.artifact.model, frame: frame.selecting(rows: chunk), modelName: model.name, dataName: "request",
                                                     request: ExplanationRequest(rows: Array(0..<chunk.count), topK: topK)).explanation
                    } catch ExplanationError.notFinite(let place) {
                        // Finite inputs so far outside training that a linear margin overflows: the input's doing.
                        throw APIError(.unprocessableContent, "not_finite_result",
                                       "the explanation is not a finite number (\(place) of rows \(start) to \(start + chunk.count - 1)): the values are too far outside the training range for this model")
                    } catch let error as ExplanationError {
                        throw APIError(.internalServerError, "explanation_failed", error.description)
                    } catch {
                        throw APIError(.unprocessableContent, "invalid_input", String(describing: error))
                    }
                    for i in part.rows.indices { part.rows[i].row += start }
                    if all == nil { all = part } else { all!.rows += part.rows }
                }
                guard let explanation = all else { throw APIError(.unprocessableContent, "empty_batch", "no rows to explain", field: "rows") }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                var writer = JSONWriter(capacity: 512 * explanation.rows.count + 256)
                writer.beginObject()
                writer.key("model"); writer.raw(model.identityJSON)
                writer.key("request_id"); writer.string(requestID)
                writer.key("task"); writer.string(explanation.task.rawValue)
                writer.key("target"); writer.string(explanation.target)
                writer.key("units"); writer.string(explanation.units)
                writer.key("explanations"); writer.raw(String(decoding: try encoder.encode(explanation.rows), as: UTF8.self))
                writer.endObject()
                return writer.text
            }
            ServerMetrics.shared.explanation("ok")
            return json(text)
        } catch let error as APIError {
            if error.code == "explanation_timeout" { ServerMetrics.shared.explanation("timeout") }
            throw error
        } catch ExplanationPool.Stop.cancelled {
            ServerMetrics.shared.explanation("cancelled")
            throw ClientAbort()
        } catch ExplanationPool.Stop.shuttingDown {
            ServerMetrics.shared.explanation("cancelled")
            throw APIError(.serviceUnavailable, "shutting_down", "the server is shutting down")
        } catch ExplanationPool.Stop.timeout {
            ServerMetrics.shared.explanation("timeout")
            throw APIError(.serviceUnavailable, "explanation_timeout",
                           "the explanation waited longer than \(NumberFormatting.canonical(timeLimit)) s for a worker (--explain-timeout); retry shortly")
        }
    }

    /// Rows explained between two checks for a stop: small enough to stop within a fraction of a second.
    static let explainChunk = 16

    static func reload(slot: ModelSlot, path: String?, logger: Logger, requestID: String?) throws -> [(old: LoadedModel?, new: LoadedModel?)] {
        do {
            let changes = try slot.reload(path: path)
            ServerMetrics.shared.reload(succeeded: true)
            if case .registry(let registry) = slot.source {
                try recordSwaps(changes, registry: registry, logger: logger, trigger: requestID ?? "reload")
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

    /// Looks for promotions and rollbacks every `interval` seconds and swaps the changed models in.
    private static func follow(_ registry: Registry, slot: ModelSlot, every interval: Double, logger: Logger) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                do {
                    // Reading the registry, loading models and auditing block: off the event loops; the swap is one step.
                    try await offLoop { try recordSwaps(try slot.sync(strict: false), registry: registry, logger: logger, trigger: "registry") }
                } catch {
                    logger.error("could not follow the registry; still serving the current models", metadata: ["error": .string(String(describing: error))])
                }
            }
        }
    }

    /// Logs each swap and appends it to the registry's audit log, so the log says what production served when.
    private static func recordSwaps(_ changes: [(old: LoadedModel?, new: LoadedModel?)], registry: Registry, logger: Logger, trigger: String) throws {
        for change in changes {
            let name = change.new?.name ?? change.old?.name ?? "-"
            let subject = change.new.map { "\($0.name)@\($0.version)" } ?? name
            logger.info("serving model", metadata: ["model": .string(name), "version": .string(change.new?.version ?? "none"),
                                                    "previous_version": .string(change.old?.version ?? "none"), "trigger": .string(trigger)])
            try registry.audit(actor: "server", action: "server.reload", subject: subject,
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
            _ = try? reload(slot: slot, path: nil, logger: logger, requestID: "SIGHUP")
        }
        source.resume()
        return source
    }

    // MARK: Helpers

    /// The request's body, at most `limit` bytes, which must be declared JSON if declared at all (415). A
    /// client that hangs up while sending it is a `ClientAbort`, not a server error.
    static func collect(_ request: inout Request, limit: Int) async throws -> ByteBuffer {
        let length = request.headers[.contentLength].flatMap(Int.init)
        if let length, length > limit {
            throw APIError(.contentTooLarge, "body_too_large", "the body has \(length) bytes; the limit is \(limit)")
        }
        // A body with no declared type is read as JSON; one declared as anything else is refused.
        let hasBody = (length ?? 0) > 0 || request.headers[.transferEncoding] != nil
        if hasBody, let type = request.headers[.contentType], !isJSON(type) {
            throw APIError(.unsupportedMediaType, "unsupported_media_type",
                           "the body must be JSON (Content-Type: application/json), not '\(APIError.truncated(type))'")
        }
        do {
            return try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "body_too_large", "the body is larger than the limit of \(limit) bytes")
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            throw ClientAbort()
        }
    }

    /// `application/json`, any case, with parameters (`; charset=utf-8`), or a `+json` type.
    static func isJSON(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    static func parse(_ body: ByteBuffer) throws -> JSONValue {
        guard body.readableBytes > 0 else { throw APIError(.badRequest, "invalid_body", "the body is empty; send a JSON object") }
        do {
            return try body.withUnsafeReadableBytes { bytes throws(JSONParseError) in try JSONParser.parse(bytes) }
        } catch {
            if error.nonFinite {
                throw APIError(.unprocessableContent, "non_finite_number", error.message, field: error.field)
            }
            throw APIError(.badRequest, "invalid_json", error.message, field: error.field)
        }
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
