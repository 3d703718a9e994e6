import Foundation
import KeelData
import KeelLearn
import Yams

/// `keel train --config FILE`: the same overrides as the flags, in YAML (or JSON), for runs kept under
/// version control. Flags given on the command line take precedence over the file. Unknown keys and wrong
/// types are errors that name the key.
///
/// ```yaml
/// time: 5m
/// metric: roc_auc
/// seed: 7
/// learners: [gbdt, linear]
/// monotone: {monthly_fee: 1}
/// class_weight: balanced
/// prefer_interpretable: 0.005
/// max_predict_ms: 5
/// ignore: [signup_date]
/// costs: [1, 5]               # binary: false positive and false negative costs for the threshold
/// max_memory: 4G              # memory the search may use (default 70% of the machine's)
/// stack: true                 # try a stacked second layer over the best trials
/// column_screen: false        # keep high-cardinality categoricals a probe scores better without
/// require_better_than_baseline: true  # exit 3 when the model does not beat the trivial baseline
/// privacy: {email: pseudonymise, age: "generalise:5", notes: drop}  # per column; direct identifiers drop by default
/// allow_pii: [customer_name]  # keep these direct identifiers as they are (written to the audit log)
/// pii_key_file: secrets/pii.key  # the key pseudonymised columns are made with
/// hyperparameters:            # pinned per family; the search varies the rest
///   gbdt: {rounds: 500, learning_rate: 0.05, max_leaves: 31, early_stopping_rounds: 0}
/// ```
struct TrainConfig: Decodable {
    var time: String?
    var trials: Int?
    var metric: Metric?
    var seed: UInt64?
    var learners: [String]?
    var monotone: [String: Int]?
    var classWeight: String?
    var preferInterpretable: Double?
    var maxPredictMs: Double?
    var ignore: [String]?
    var features: [String]?
    var timeColumn: String?
    var group: String?
    var weight: String?
    var protected: [String]?
    var hyperparameters: [String: [String: Double]]?
    var costs: [Double]?
    var maxMemory: String?
    var stack: Bool?
    var requireBetterThanBaseline: Bool?
    var columnScreen: Bool?
    var privacy: [String: PrivacyRule]?
    var allowPII: [String]?
    var piiKeyFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case time, trials, metric, seed, learners, monotone, ignore, features, group, weight, protected, hyperparameters, costs, stack, privacy
        case allowPII = "allow_pii"
        case piiKeyFile = "pii_key_file"
        case classWeight = "class_weight"
        case preferInterpretable = "prefer_interpretable"
        case maxPredictMs = "max_predict_ms"
        case timeColumn = "time_column"
        case maxMemory = "max_memory"
        case columnScreen = "column_screen"
        case requireBetterThanBaseline = "require_better_than_baseline"
    }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        time = try c.decodeIfPresent(String.self, forKey: .time)
        maxMemory = try c.decodeIfPresent(String.self, forKey: .maxMemory)
        stack = try c.decodeIfPresent(Bool.self, forKey: .stack)
        requireBetterThanBaseline = try c.decodeIfPresent(Bool.self, forKey: .requireBetterThanBaseline)
        columnScreen = try c.decodeIfPresent(Bool.self, forKey: .columnScreen)
        trials = try c.decodeIfPresent(Int.self, forKey: .trials)
        metric = try c.decodeIfPresent(Metric.self, forKey: .metric)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        learners = try c.decodeIfPresent([String].self, forKey: .learners)
        monotone = try c.decodeIfPresent([String: Int].self, forKey: .monotone)
        classWeight = try c.decodeIfPresent(String.self, forKey: .classWeight)
        preferInterpretable = try c.decodeIfPresent(Double.self, forKey: .preferInterpretable)
        maxPredictMs = try c.decodeIfPresent(Double.self, forKey: .maxPredictMs)
        ignore = try c.decodeIfPresent([String].self, forKey: .ignore)
        features = try c.decodeIfPresent([String].self, forKey: .features)
        timeColumn = try c.decodeIfPresent(String.self, forKey: .timeColumn)
        hyperparameters = try c.decodeIfPresent([String: [String: Double]].self, forKey: .hyperparameters)
        costs = try c.decodeIfPresent([Double].self, forKey: .costs)
        group = try c.decodeIfPresent(String.self, forKey: .group)
        weight = try c.decodeIfPresent(String.self, forKey: .weight)
        protected = try c.decodeIfPresent([String].self, forKey: .protected)
        privacy = try c.decodeIfPresent([String: PrivacyRule].self, forKey: .privacy)
        allowPII = try c.decodeIfPresent([String].self, forKey: .allowPII)
        piiKeyFile = try c.decodeIfPresent(String.self, forKey: .piiKeyFile)
    }

    static func read(_ path: String) throws -> TrainConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.cannotOpen(file: path, reason: "no such file or not readable")
        }
        do {
            if path.lowercased().hasSuffix(".json") { return try JSONDecoder().decode(TrainConfig.self, from: data) }
            return try YAMLDecoder().decode(TrainConfig.self, from: data)
        } catch let error as DecodingError {
            throw DataError.invalidSchema("\(path): \(SchemaFile.describe(error))")
        }
    }
}
