import KeelData

/// What a search needs to know about a kind of learner, so that the search names none of them: its
/// parameters and their space, where its configurations enter the portfolio, what a fit costs in memory,
/// which settings a user may pin, and how to fit it.
///
/// A family works on `Learner` values of its own kind (`owns`), the closed, versioned form a model file
/// records. Built-in families are listed in `LearnerFamilies.standard`; a family defined elsewhere (a test
/// target, a plug-in) wraps its configurations in `Learner.external`, is searched and ranked like the others,
/// and cannot be saved.
public protocol LearnerFamily: Sendable {
    /// The name in configs, `--learner` and reports: "gbdt".
    var name: String { get }
    /// A person can read the whole model (linear models, EBMs): what `--prefer-interpretable` prefers.
    var isInterpretable: Bool { get }
    /// Whether its configurations can take per-feature monotone constraints at all (some still cannot:
    /// `constrained` returns nil for them).
    var acceptsMonotoneConstraints: Bool { get }
    /// The hyperparameters and their domains, as data.
    var space: [Hyperparameter] { get }
    /// Seconds of one fit relative to the portfolio's first boosting configuration on the same rows, roughly.
    var relativeCost: Double { get }
    /// Setting names a user may pin (the `hyperparameters:` keys of a train config); empty: none.
    var pinnableNames: [String] { get }
    /// Whether the search moves its best configuration by seeded variations (a local search).
    var searchesLocally: Bool { get }

    /// Whether `learner` is one of this family's configurations.
    func owns(_ learner: Learner) -> Bool
    /// The starting configurations for data of `shape`.
    func portfolio(for shape: DataShape) -> [PortfolioEntry]
    /// The settings of `learner` that `space` names, by those names (the ones the configuration has: a
    /// symmetric tree has a depth, not a leaf count): what a check holds to the space's domains.
    func values(of learner: Learner) -> [String: Double]
    /// Key settings, as a user reads them.
    func describe(_ learner: Learner) -> String
    /// `learner` with the pinned `values` (names from `pinnableNames`, already checked) applied.
    func pinning(_ learner: Learner, to values: [String: Double]) -> Learner
    /// `learner` honouring per-feature constraints (+1 rising, −1 falling, 0 free); nil when it cannot.
    func constrained(_ learner: Learner, _ constraints: [Int]) -> Learner?
    /// A seeded variation of `learner` for the local search (nil: the family does not vary).
    func variation(of learner: Learner, _ generator: inout SeededGenerator) -> Learner?
    /// `learner` drawing its random choices from `seed`.
    func seeded(_ learner: Learner, _ seed: UInt64) -> Learner
    /// The largest arrays a fit on data of `shape` allocates, in bytes (an upper bound).
    func memoryEstimate(_ learner: Learner, shape: DataShape) -> Int
    /// Value bins per feature when the family fits on binned features (nil: it reads the values): a search
    /// bins each fold once per bin count and hands every such fit the same `TrainingData.binned`.
    func binCount(_ learner: Learner) -> Int?
    /// Whether the fit stops early on `FitContext.validation` (then the search holds back rows for it).
    func stopsEarly(_ learner: Learner) -> Bool
    /// The configuration to refit on more rows, given the rounds early stopping chose in each fold.
    func refit(_ learner: Learner, bestRounds: [Int]) -> Learner
    /// Whether averaging fits of `learner` over several seeds lowers its variance (it samples rows or
    /// columns and is not already an average of its own).
    func benefitsFromSeedBagging(_ learner: Learner) -> Bool
    func fit(_ learner: Learner, data: TrainingData, context: FitContext) throws -> FittedModel
}

extension LearnerFamily {
    public var isInterpretable: Bool { false }
    public var acceptsMonotoneConstraints: Bool { false }
    public var relativeCost: Double { 1 }
    public var pinnableNames: [String] { [] }
    public var searchesLocally: Bool { false }
    public func pinning(_ learner: Learner, to values: [String: Double]) -> Learner { learner }
    public func values(of learner: Learner) -> [String: Double] {
        if case .external(let external) = learner { external.settings } else { [:] }
    }
    public func constrained(_ learner: Learner, _ constraints: [Int]) -> Learner? {
        constraints.allSatisfy { $0 == 0 } ? learner : nil
    }
    public func variation(of learner: Learner, _ generator: inout SeededGenerator) -> Learner? { nil }
    public func stopsEarly(_ learner: Learner) -> Bool { false }
    public func binCount(_ learner: Learner) -> Int? { nil }
    public func refit(_ learner: Learner, bestRounds: [Int]) -> Learner { learner }
    public func benefitsFromSeedBagging(_ learner: Learner) -> Bool { false }
}

/// The shape of the data a search fits: what the portfolio's size rules and the memory estimates read.
public struct DataShape: Sendable, Equatable {
    public var rows: Int
    public var features: Int
    public var task: TaskKind
    /// Margins per row: the class count for multiclass, else 1.
    public var outputs: Int

    public init(rows: Int, features: Int, task: TaskKind, outputs: Int) {
        (self.rows, self.features, self.task, self.outputs) = (rows, features, task, outputs)
    }

    /// Rows × features × outputs: what a coordinate-descent pass or an EBM's cyclic round grows with.
    public var work: Int { rows * max(features, 1) * max(outputs, 1) }

    /// A linear fit is slow enough here to run after the cheap portfolio entries.
    public var linearFitIsCostly: Bool { rows > 50_000 || work > 2_000_000 }
}

/// One hyperparameter of a family's search space: its domain, the family's default (`initial`) and, where
/// it differs, the value that makes a fit cheapest (FLAML's low-cost initial value).
public struct Hyperparameter: Sendable, Equatable, Codable {
    public enum Domain: Sendable, Equatable, Codable {
        case integer(lower: Int, upper: Int)
        case real(lower: Double, upper: Double, logScale: Bool)
        case choice([Double])

        public func contains(_ value: Double) -> Bool {
            switch self {
            case .integer(let lower, let upper): value == value.rounded() && Double(lower) <= value && value <= Double(upper)
            case .real(let lower, let upper, _): lower <= value && value <= upper
            case .choice(let values): values.contains(value)
            }
        }
    }

    public var name: String
    public var domain: Domain
    public var initial: Double
    public var lowCost: Double?

    public init(_ name: String, _ domain: Domain, initial: Double, lowCost: Double? = nil) {
        (self.name, self.domain, self.initial, self.lowCost) = (name, domain, initial, lowCost)
    }
}

/// A starting configuration of the portfolio.
public struct PortfolioEntry: Sendable {
    public var learner: Learner
    public var summary: String
    /// Where it runs among every family's entries, lower first: ranks interleave the families in the order
    /// that works (cheap, usually strong configurations first).
    public var rank: Int
    /// Its fit cost grows steeply with rows × features × classes on this data: it runs after the cheap
    /// entries, interleaved with the local search, so it cannot starve the configurations that usually win.
    public var costly: Bool

    public init(_ learner: Learner, summary: String, rank: Int, costly: Bool = false) {
        (self.learner, self.summary, self.rank, self.costly) = (learner, summary, rank, costly)
    }
}

/// The rows a family fits on.
public struct TrainingData: Sendable {
    public var features: FeatureMatrix
    public var target: TargetEncoding
    public var weights: [Double]?
    /// `features` already binned (once per fold, shared by its trials); used when its bin count is the
    /// configuration's, else the family bins the features itself.
    public var binned: BinnedMatrix?

    public init(features: FeatureMatrix, target: TargetEncoding, weights: [Double]? = nil, binned: BinnedMatrix? = nil) {
        (self.features, self.target, self.weights, self.binned) = (features, target, weights, binned)
    }
}

/// How a fit runs. The seed is part of the configuration (`LearnerFamily.seeded`), so that the trial record
/// and the saved model carry it; the context holds what the search decides around it.
public struct FitContext: Sendable {
    /// Stop when this passes, keeping what is complete (the family says how: rounds, trees, passes).
    public var deadline: ContinuousClock.Instant?
    /// Held-out rows for early stopping, for families that stop early.
    public var validation: ValidationRows?

    public init(deadline: ContinuousClock.Instant? = nil, validation: ValidationRows? = nil) {
        (self.deadline, self.validation) = (deadline, validation)
    }
}

/// Rows held out of a fit for it to stop early on (the search makes them from each fold's training rows;
/// families that stop early read them, the others ignore them).
public struct ValidationRows: Sendable {
    public var features: FeatureMatrix
    public var target: TargetEncoding

    public init(features: FeatureMatrix, target: TargetEncoding) {
        (self.features, self.target) = (features, target)
    }
}

/// The families Keel ships, in the order their names are listed to users.
public enum LearnerFamilies {
    public static let standard: [any LearnerFamily] = [
        LinearFamily(), BoostingFamily(), ForestFamily.randomForest, ForestFamily.extraTrees, ExplainableBoostingFamily(),
    ]

    public static var names: [String] { standard.map(\.name) }

    public static func named(_ name: String, in families: [any LearnerFamily] = standard) -> (any LearnerFamily)? {
        families.first { $0.name == name }
    }

    /// What ships when no trial completed: a ridge model, the fastest to fit that is never worse than a
    /// constant.
    public static var fallback: Learner { .linear(LinearParameters()) }
}

extension Learner {
    /// The family this configuration belongs to.
    public var family: any LearnerFamily {
        switch self {
        case .gradientBoosting: BoostingFamily()
        case .randomForest(let p): p.randomThresholds ? ForestFamily.extraTrees : ForestFamily.randomForest
        case .linear: LinearFamily()
        case .explainableBoosting: ExplainableBoostingFamily()
        case .external(let external): external.family
        }
    }
}

/// A configuration of a family defined outside KeelLearn: settings by name. It is searched and scored like
/// any other, and cannot be saved: encoding says so, and no model file holds one.
public struct ExternalLearner: Sendable, Equatable, Codable {
    public let family: any LearnerFamily
    public var settings: [String: Double]
    public var seed: UInt64

    public init(family: any LearnerFamily, settings: [String: Double], seed: UInt64 = 0) {
        (self.family, self.settings, self.seed) = (family, settings, seed)
    }

    public static func == (a: ExternalLearner, b: ExternalLearner) -> Bool {
        a.family.name == b.family.name && a.settings == b.settings && a.seed == b.seed
    }

    private enum CodingKeys: String, CodingKey { case family, settings, seed }

    /// A configuration of a family defined outside Keel is recorded by name, settings and seed, so a model
    /// whose search merely tried one can still be saved (its trial schedule lists it); read back, it names
    /// the family but cannot fit (`UnavailableFamily`). A model *fitted* by such a family cannot be saved.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(family.name, forKey: .family)
        try container.encode(settings, forKey: .settings)
        try container.encode(seed, forKey: .seed)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        family = UnavailableFamily(name: try container.decode(String.self, forKey: .family))
        settings = try container.decode([String: Double].self, forKey: .settings)
        seed = try container.decode(UInt64.self, forKey: .seed)
    }
}

/// A family read back from a record that named one defined outside Keel: it describes its configurations
/// and refuses to fit them.
public struct UnavailableFamily: LearnerFamily {
    public let name: String
    public var space: [Hyperparameter] { [] }

    public func owns(_ learner: Learner) -> Bool {
        if case .external(let e) = learner { e.family.name == name } else { false }
    }
    public func portfolio(for shape: DataShape) -> [PortfolioEntry] { [] }
    public func describe(_ learner: Learner) -> String {
        guard case .external(let e) = learner else { return name }
        return e.settings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
    public func seeded(_ learner: Learner, _ seed: UInt64) -> Learner {
        guard case .external(var e) = learner else { return learner }
        e.seed = seed
        return .external(e)
    }
    public func memoryEstimate(_ learner: Learner, shape: DataShape) -> Int { 0 }
    public func fit(_ learner: Learner, data: TrainingData, context: FitContext) throws -> FittedModel {
        throw LearnError.invalidParameter("learner family '\(name)' was defined outside Keel by the program that recorded it; it is not available here")
    }
}

/// A model fitted by an external family: scores rows, cannot be saved.
public protocol ExternalPredictor: Sendable {
    /// Raw margins, row-major: log-odds for binary, one per class for multiclass, values for regression.
    func rawScores(_ matrix: FeatureMatrix) throws -> [Double]
    /// How many numbers the model holds.
    var storedValues: Int { get }
}

/// A fitted external model, compared by identity.
public final class ExternalModel: Sendable, Equatable {
    public let family: String
    public let task: TaskKind
    public let outputs: Int
    public let predictor: any ExternalPredictor

    public init(family: String, task: TaskKind, outputs: Int, predictor: any ExternalPredictor) {
        (self.family, self.task, self.outputs, self.predictor) = (family, task, outputs, predictor)
    }

    public static func == (a: ExternalModel, b: ExternalModel) -> Bool { a === b }
}
