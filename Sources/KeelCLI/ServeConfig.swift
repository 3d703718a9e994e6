import Foundation
import KeelData
import KeelLearn
import KeelServer
import Yams

/// The `server:` section of `keel.yaml`. Other top-level sections belong to other commands; inside this one,
/// unknown keys and wrong types are errors that name the key.
///
/// ```yaml
/// server:
///   host: 0.0.0.0
///   port: 8080
///   idle_timeout: 30s
///   keys_file: .keel/api-keys.json
///   log_level: info
///   metrics_auth: open          # or key: /metrics needs a metrics (or admin) key (default: open on loopback only)
///   drain_timeout: 30s          # after SIGTERM, exit even if requests are still running after this long
///   explanations: {max_rows: 200, timeout: 10s, workers: 1, queue: 8}
///   allow_unsigned: false       # with a verify key: serve unsigned models too, with a warning (never wrongly signed ones)
///   pii_key_file: secrets/pii.key  # the key of models whose columns are pseudonymised (also KEEL_PII_KEY)
///   limits: {max_body_bytes: 1048576, max_rows: 1000, max_string_length: 1024, strict_levels: false}
///   tls: {certificate: cert.pem, key: key.pem}
///   prediction_log:
///     enabled: true
///     sample_rate: 1.0          # share of requests logged
///     retention: 30d
///     exclude: [email]          # never stored
///     hash: [customer_id]       # stored as HMAC-SHA256 (joinable, not readable)
///     hash_key_file: .keel/log-hash.key
///     queue_capacity: 20000     # records waiting to be written; beyond it they are dropped and counted
/// ```
struct ServeConfig: Decodable {
    var host: String?
    var port: Int?
    var idleTimeout: String?
    var keysFile: String?
    var logLevel: String?
    var allowUnsigned: Bool?
    var piiKeyFile: String?
    var metricsAuth: ServerSettings.MetricsAuth?
    var drainTimeout: String?
    var explanations: ExplanationLimits?
    var limits: ServerLimits?
    var tls: TLSFiles?
    var predictionLog: PredictionLogConfig?

    struct PredictionLogConfig: Decodable {
        var enabled: Bool
        var sampleRate: Double?
        var retention: String?
        var exclude: [String]
        var hash: [String]
        var hashKeyFile: String?
        var queueCapacity: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case enabled, retention, exclude, hash
            case sampleRate = "sample_rate"
            case hashKeyFile = "hash_key_file"
            case queueCapacity = "queue_capacity"
        }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
            sampleRate = try c.decodeIfPresent(Double.self, forKey: .sampleRate)
            retention = try c.decodeIfPresent(String.self, forKey: .retention)
            exclude = try c.decodeIfPresent([String].self, forKey: .exclude) ?? []
            hash = try c.decodeIfPresent([String].self, forKey: .hash) ?? []
            hashKeyFile = try c.decodeIfPresent(String.self, forKey: .hashKeyFile)
            queueCapacity = try c.decodeIfPresent(Int.self, forKey: .queueCapacity)
        }
    }

    /// `explanations: {max_rows, timeout, workers, queue}`.
    struct ExplanationConfig: Decodable {
        var limits = ExplanationLimits()

        enum CodingKeys: String, CodingKey, CaseIterable { case maxRows = "max_rows", timeout, workers, queue }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            limits.maxRows = try c.decodeIfPresent(Int.self, forKey: .maxRows) ?? limits.maxRows
            limits.workers = try c.decodeIfPresent(Int.self, forKey: .workers) ?? limits.workers
            limits.queueLimit = try c.decodeIfPresent(Int.self, forKey: .queue) ?? limits.queueLimit
            if let text = try c.decodeIfPresent(String.self, forKey: .timeout) {
                guard let seconds = DurationArgument.parse(text), seconds > 0 else {
                    throw DecodingError.dataCorruptedError(forKey: .timeout, in: c, debugDescription: "explanations.timeout must be a duration such as 10s, not '\(text)'")
                }
                limits.timeLimitSeconds = seconds
            }
            guard limits.maxRows >= 1, limits.workers >= 1, limits.queueLimit >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .maxRows, in: c, debugDescription: "explanations: max_rows and workers must be at least 1, queue at least 0")
            }
        }
    }

    struct TLSFiles: Decodable {
        var certificate: String
        var key: String

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: ["certificate", "key"])
            let c = try decoder.container(keyedBy: CodingKeys.self)
            certificate = try c.decode(String.self, forKey: .certificate)
            key = try c.decode(String.self, forKey: .key)
        }

        enum CodingKeys: String, CodingKey { case certificate, key }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, limits, tls
        case idleTimeout = "idle_timeout"
        case keysFile = "keys_file"
        case logLevel = "log_level"
        case predictionLog = "prediction_log"
        case allowUnsigned = "allow_unsigned"
        case piiKeyFile = "pii_key_file"
        case metricsAuth = "metrics_auth"
        case drainTimeout = "drain_timeout"
        case explanations
    }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host)
        port = try c.decodeIfPresent(Int.self, forKey: .port)
        idleTimeout = try c.decodeIfPresent(String.self, forKey: .idleTimeout)
        keysFile = try c.decodeIfPresent(String.self, forKey: .keysFile)
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel)
        allowUnsigned = try c.decodeIfPresent(Bool.self, forKey: .allowUnsigned)
        piiKeyFile = try c.decodeIfPresent(String.self, forKey: .piiKeyFile)
        if let text = try c.decodeIfPresent(String.self, forKey: .metricsAuth) {
            guard let mode = ServerSettings.MetricsAuth(rawValue: text) else {
                throw DecodingError.dataCorruptedError(forKey: .metricsAuth, in: c, debugDescription: "metrics_auth must be open or key, not '\(text)'")
            }
            metricsAuth = mode
        }
        drainTimeout = try c.decodeIfPresent(String.self, forKey: .drainTimeout)
        explanations = try c.decodeIfPresent(ExplanationConfig.self, forKey: .explanations)?.limits
        limits = try c.decodeIfPresent(StrictLimits.self, forKey: .limits)?.limits
        tls = try c.decodeIfPresent(TLSFiles.self, forKey: .tls)
        predictionLog = try c.decodeIfPresent(PredictionLogConfig.self, forKey: .predictionLog)
    }

    /// Limits with unknown keys rejected; absent keys keep their defaults.
    private struct StrictLimits: Decodable {
        var limits = ServerLimits()

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Set(["max_body_bytes", "max_rows", "max_string_length", "strict_levels"]))
            let c = try decoder.container(keyedBy: ServerLimits.CodingKeys.self)
            limits.maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? limits.maxBodyBytes
            limits.maxRows = try c.decodeIfPresent(Int.self, forKey: .maxRows) ?? limits.maxRows
            limits.maxStringLength = try c.decodeIfPresent(Int.self, forKey: .maxStringLength) ?? limits.maxStringLength
            limits.strictLevels = try c.decodeIfPresent(Bool.self, forKey: .strictLevels) ?? limits.strictLevels
        }
    }

    private struct File: Decodable {
        var server: ServeConfig?
    }

    /// The top-level `humility:` section: rules for the one model a `keel serve FILE` or `keel predict FILE`
    /// scores. Nil when the file has no such section.
    private struct HumilitySection: Decodable {
        var humility: [HumilityRule]?
    }

    static func humility(_ path: String, bytes: [UInt8]) throws -> [HumilityRule]? {
        do {
            let data = Data(bytes)
            let section = path.lowercased().hasSuffix(".json") ? try JSONDecoder().decode(HumilitySection.self, from: data)
                                                                : try YAMLDecoder().decode(HumilitySection.self, from: data)
            return try section.humility.map(HumilityRule.named)
        } catch let error as DecodingError {
            throw DataError.invalidSchema("\(path): \(SchemaFile.describe(error))")
        } catch let error as HumilityError {
            throw DataError.invalidSchema("\(path): \(error)")
        }
    }

    static func humility(_ path: String) throws -> [HumilityRule]? {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.cannotOpen(file: path, reason: "no such file or not readable")
        }
        return try humility(path, bytes: Array(data))
    }

    static func read(_ path: String) throws -> ServeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.cannotOpen(file: path, reason: "no such file or not readable")
        }
        do {
            let file = path.lowercased().hasSuffix(".json") ? try JSONDecoder().decode(File.self, from: data) : try YAMLDecoder().decode(File.self, from: data)
            return file.server ?? ServeConfig()
        } catch let error as DecodingError {
            throw DataError.invalidSchema("\(path): \(SchemaFile.describe(error))")
        }
    }

    private init() {}
}
