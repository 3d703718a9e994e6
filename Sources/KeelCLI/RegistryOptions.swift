import ArgumentParser
import Foundation
import KeelData
import KeelLearn
import KeelLifecycle
import KeelMonitor
import KeelRegistry
import KeelServer
import Yams

/// `--registry PATH|URL` for every command that reads or writes the registry.
struct RegistryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The registry: a folder, or a PostgreSQL URL postgres://user[:password]@host[:port]/db[?sslmode=…] (default: $KEEL_HOME, else ./.keel).",
                               valueName: "path|url"))
    var registry: String?

    var folder: String { Registry.folder(explicit: registry) }

    /// Opens the registry; commands that only read refuse to create an empty one.
    func open(create: Bool = false) async throws -> any RegistryStore {
        try await RegistryStores.open(folder, create: create)
    }

    /// A model argument: an existing file, else a registry reference (`NAME`, `NAME@VERSION`, `NAME@STAGE`)
    /// when a registry exists. Anything that looks like a path (a `/` or a `.keel` ending) stays a path, so
    /// a missing file is reported as one.
    func modelPath(_ argument: String) async throws -> String {
        if FileManager.default.fileExists(atPath: argument) || argument.contains("/") || argument.hasSuffix(".keel") { return argument }
        guard let reference = ModelReference(argument), RegistryStores.exists(folder) else { return argument }
        let registry = try await open()
        return try await registry.artifactFile(try await registry.resolve(reference))
    }

    /// The registry's `keel.yaml`, parsed, with its change audited; nil when there is none.
    func configuration(_ registry: any RegistryStore) async throws -> RegistryConfig? {
        if let database = registry as? PostgresStore {
            // A registry on PostgreSQL keeps its keel.yaml in the database (`keel registry config push`), audited there.
            guard let bytes = try await database.configurationFile("keel.yaml") else { return nil }
            return try RegistryConfig.read("keel.yaml in \(database.location)", text: String(decoding: bytes, as: UTF8.self))
        }
        let path = registry.location + "/keel.yaml"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        try await registry.noteConfiguration(path: path, content: Array(data), actor: Registry.currentUser)
        return try RegistryConfig.read(path, text: String(decoding: data, as: UTF8.self))
    }
}

/// The `models:` section of the registry's `keel.yaml`: promotion gates per model name.
///
/// ```yaml
/// models:
///   churn:
///     gates:
///       max_metric_drop: 0.01     # holdout metric may be at most this much worse than production
///       required_approvals: 1     # `keel models approve` sign-offs needed for production
///     fairness:                   # bias limits on the candidate's holdout (binary models)
///       attributes: [region]
///       max_parity_difference: 0.1
///       min_disparate_impact: 0.8
///     retrain:                    # when `keel retrain churn` retrains
///       drift_features: 2
///       performance_drop: 0.05
///       every: 30d
///       window: 7d
///     humility:                   # guards on every prediction (see HumilityRule)
///       - {trigger: uncertain, max_probability_below: 0.6, action: review}
///       - {trigger: outlying, action: flag}
/// ```
struct RegistryConfig: Decodable {
    var models: [String: ModelPolicy]

    struct ModelPolicy: Decodable {
        var gates: PromotionPolicy
        var fairness: FairnessGate?
        var retrain: RetrainPolicy?
        var humility: [HumilityRule]?

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: ["gates", "fairness", "retrain", "humility"])
            let c = try decoder.container(keyedBy: CodingKeys.self)
            gates = try c.decodeIfPresent(Gates.self, forKey: .gates)?.policy ?? PromotionPolicy()
            fairness = try c.decodeIfPresent(FairnessEntry.self, forKey: .fairness)?.gate
            retrain = try c.decodeIfPresent(RetrainEntry.self, forKey: .retrain)?.policy
            do {
                humility = try c.decodeIfPresent([HumilityRule].self, forKey: .humility).map(HumilityRule.named)
            } catch HumilityError.invalid(let key, let message) {
                throw ValidationError((decoder.codingPath.map(\.stringValue) + [key]).joined(separator: ".") + ": " + message)
            }
        }

        enum CodingKeys: String, CodingKey { case gates, fairness, retrain, humility }
    }

    /// `models.NAME.fairness`, read into KeelLifecycle's `FairnessGate`.
    struct FairnessEntry: Decodable {
        var gate: FairnessGate

        enum CodingKeys: String, CodingKey, CaseIterable {
            case attributes
            case maxParityDifference = "max_parity_difference"
            case minDisparateImpact = "min_disparate_impact"
            case maxEqualOpportunityDifference = "max_equal_opportunity_difference"
            case minGroupSize = "min_group_size"
        }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            var thresholds = FairnessThresholds()
            if let value = try c.decodeIfPresent(Double.self, forKey: .maxParityDifference) { thresholds.demographicParityDifference = value }
            if let value = try c.decodeIfPresent(Double.self, forKey: .minDisparateImpact) { thresholds.disparateImpactRatio = value }
            if let value = try c.decodeIfPresent(Double.self, forKey: .maxEqualOpportunityDifference) { thresholds.equalOpportunityDifference = value }
            if let value = try c.decodeIfPresent(Int.self, forKey: .minGroupSize) { thresholds.minimumGroupSize = value }
            gate = FairnessGate(attributes: try c.decode([String].self, forKey: .attributes), thresholds: thresholds)
        }
    }

    /// `models.NAME.retrain`, read into KeelLifecycle's `RetrainPolicy`.
    struct RetrainEntry: Decodable {
        var policy = RetrainPolicy()

        enum CodingKeys: String, CodingKey, CaseIterable {
            case every, window, time
            case driftFeatures = "drift_features"
            case performanceDrop = "performance_drop"
        }

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            policy.driftFeatures = try c.decodeIfPresent(Int.self, forKey: .driftFeatures)
            policy.performanceDrop = try c.decodeIfPresent(Double.self, forKey: .performanceDrop)
            func duration(_ key: CodingKeys) throws -> Double? {
                guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
                guard let seconds = DurationArgument.parse(text), seconds > 0 else {
                    throw ValidationError("models.*.retrain.\(key.rawValue) must be a duration such as 7d, not '\(text)'")
                }
                return seconds
            }
            policy.every = try duration(.every)
            policy.window = try duration(.window) ?? policy.window
            policy.time = try duration(.time) ?? policy.time
        }
    }

    struct Gates: Decodable {
        var policy: PromotionPolicy

        init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: ["max_metric_drop", "required_approvals"])
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let drop = try c.decodeIfPresent(Double.self, forKey: .maxMetricDrop)
            let approvals = try c.decodeIfPresent(Int.self, forKey: .requiredApprovals) ?? 0
            if let drop, !(drop >= 0) { throw ValidationError("models.*.gates.max_metric_drop must be a non-negative number") }
            if approvals < 0 { throw ValidationError("models.*.gates.required_approvals must not be negative") }
            policy = PromotionPolicy(maxMetricDrop: drop, requiredApprovals: approvals)
        }

        enum CodingKeys: String, CodingKey {
            case maxMetricDrop = "max_metric_drop"
            case requiredApprovals = "required_approvals"
        }
    }

    enum CodingKeys: String, CodingKey { case models }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        models = try c.decodeIfPresent([String: ModelPolicy].self, forKey: .models) ?? [:]
    }

    static func read(_ path: String, text: String) throws -> RegistryConfig {
        do {
            return try YAMLDecoder().decode(RegistryConfig.self, from: text)
        } catch let error as DecodingError {
            throw DataError.invalidSchema("\(path): \(SchemaFile.describe(error))")
        } catch let error as ValidationError {
            throw DataError.invalidSchema("\(path): \(error.message)")
        }
    }

    func policy(for name: String) -> PromotionPolicy {
        models[name]?.gates ?? PromotionPolicy()
    }

    func fairness(for name: String) -> FairnessGate? { models[name]?.fairness }
    func retrain(for name: String) -> RetrainPolicy? { models[name]?.retrain }
    func humility(for name: String) -> [HumilityRule]? { models[name]?.humility }

    /// Every model's humility rules, for a server following the registry.
    var humilityTable: HumilitySource.Table {
        HumilitySource.Table(byName: models.compactMapValues(\.humility))
    }
}
