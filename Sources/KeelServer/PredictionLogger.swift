import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry
import Logging
import Synchronization

/// How the server logs predictions. Prediction logs hold personal data, so what is kept is configurable:
/// a sampling rate, a retention, fields left out, and fields stored only as keyed hashes.
public struct PredictionLogSettings: Sendable {
    public var registryFolder: String
    /// Share of requests logged (1 = all), decided per request so batch rows stay together.
    public var sampleRate = 1.0
    /// Records older than this are deleted; nil keeps them.
    public var retentionSeconds: Double? = 30 * 86_400
    public var excluded: Set<String> = []
    /// Fields stored as HMAC-SHA256 under `hashKey` (still joinable, not readable).
    public var hashed: Set<String> = []
    public var hashKey: KeyedHasher?
    /// Records waiting to be written; beyond this, records are dropped and counted, never waited for.
    public var queueCapacity = 20_000
    public var flushSeconds = 0.25

    public init(registryFolder: String) { self.registryFolder = registryFolder }
}

/// Takes prediction records on the request path without blocking (a bounded queue behind a lock held for
/// an append) and writes them to the registry in batches from a background task.
final class PredictionLogger: Sendable {
    let settings: PredictionLogSettings
    let registry: any RegistryStore
    private let queue = Mutex<[PredictionRecord]>([])
    private let sampler = Mutex(SeededGenerator(seed: UInt64(UInt32.random(in: 0...UInt32.max))))

    /// Writes to `registry` when given (the store a server following a registry already has open), else to
    /// the registry at `settings.registryFolder`.
    init(settings: PredictionLogSettings, registry given: (any RegistryStore)? = nil) async throws {
        if !settings.hashed.isEmpty && settings.hashKey == nil {
            throw RegistryError.invalid("prediction_log.hash names fields but no hash key is configured (hash_key_file or KEEL_LOG_HASH_KEY)")
        }
        self.settings = settings
        if let given { registry = given } else { registry = try await RegistryStores.open(settings.registryFolder, create: true) }
    }

    /// Whether this request is logged (sampling).
    func samples() -> Bool {
        settings.sampleRate >= 1 || sampler.withLock { $0.nextUnit() } < settings.sampleRate
    }

    /// The logged form of one request row: excluded fields dropped, hashed fields replaced by their HMAC.
    func inputs(_ row: [(key: String, value: JSONValue)], idColumn: String?) -> (json: String, subject: String?) {
        var writer = JSONWriter(capacity: 64 * row.count)
        var subject: String?
        writer.beginObject()
        for (key, value) in row where !settings.excluded.contains(key) {
            writer.key(key)
            let hashed = settings.hashed.contains(key)
            // Text is made only for the fields that need it: the id (the erasure key) and hashed fields.
            if hashed || key == idColumn, let text = Self.text(value) {
                let stored = hashed ? settings.hashKey!.hash(text) : text
                if key == idColumn { subject = stored }
                if hashed {
                    writer.string(stored)
                    continue
                }
            }
            switch value {
            case .string(let s): writer.string(s)
            case .number(let x): writer.number(x)
            case .bool(let b): writer.bool(b)
            default: writer.null()
            }
        }
        writer.endObject()
        return (writer.text, subject)
    }

    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): s
        case .number(let x): NumberFormatting.canonical(x)
        case .bool(let b): b ? "true" : "false"
        case .null, .array, .object: nil
        }
    }

    /// Queues records; when the queue is full they are dropped and counted instead.
    func offer(_ records: [PredictionRecord]) {
        let accepted = queue.withLock { pending in
            guard pending.count + records.count <= settings.queueCapacity else { return false }
            pending.append(contentsOf: records)
            return true
        }
        if !accepted {
            ServerMetrics.shared.predictionLog(dropped: records.count)
        }
    }

    /// Writes queued records every `flushSeconds` until cancelled, then once more; applies retention hourly.
    func run(logger: Logger) async {
        var lastRetention = Date.distantPast
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int(settings.flushSeconds * 1000)))
            await flush(logger: logger)
            if let retention = settings.retentionSeconds, Date().timeIntervalSince(lastRetention) > 3600 {
                lastRetention = Date()
                do {
                    try await registry.expirePredictions(before: Date().timeIntervalSince1970 - retention)
                } catch {
                    logger.error("prediction log retention failed", metadata: ["error": .string("\(error)")])
                }
            }
        }
        await flush(logger: logger)
    }

    func flush(logger: Logger) async {
        let batch = queue.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try await registry.logPredictions(batch)
            ServerMetrics.shared.predictionLog(written: batch.count)
        } catch {
            ServerMetrics.shared.predictionLog(dropped: batch.count)
            logger.error("could not write the prediction log; records dropped", metadata: ["records": .stringConvertible(batch.count), "error": .string("\(error)")])
        }
    }
}
