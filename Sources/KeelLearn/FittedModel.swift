import Foundation

/// Every kind of fitted model Keel saves, as a closed enum: saving and loading are exhaustive and visible
/// here, and the encoded form carries a format version so that a later Keel can read every earlier one.
public enum FittedModel: Codable, Sendable, Equatable {
    case gradientBoosting(GradientBoostedModel)
    case forest(ForestModel)
    case linear(LinearModel)
    case explainableBoosting(ExplainableBoostingModel)
    case ensemble(EnsembleModel)
    /// A model of a family defined outside Keel (`ExternalLearner`): scored and ranked, never saved.
    case external(ExternalModel)

    /// The encoding written today. Readers accept every version up to this one.
    public static let formatVersion = 1

    /// Class probabilities (row-major, both classes for binary) or values.
    public func predict(_ matrix: FeatureMatrix) throws -> [Double] {
        switch self {
        case .gradientBoosting(let model): try model.predict(matrix)
        case .forest(let model): try model.predict(matrix)
        case .linear(let model): try model.predict(matrix)
        case .explainableBoosting(let model): try model.predict(matrix)
        case .ensemble(let model): try model.predict(matrix)
        case .external(let model): ScoreLink.apply(try model.predictor.rawScores(matrix), task: model.task, outputs: model.outputs)
        }
    }

    /// How many numbers the model stores, roughly: what its serialisation time grows with (tree nodes for
    /// boosting and forests), so the time to write one model predicts the time to write another.
    public var storedValues: Int {
        switch self {
        case .gradientBoosting(let model): model.trees.reduce(0) { $0 + $1.nodeCount } * 8
        case .forest(let model): model.trees.reduce(0) { $0 + $1.nodeCount } * 8
        case .linear(let model): model.coefficients.reduce(0) { $0 + $1.count } + model.intercepts.count
        case .explainableBoosting(let model): model.terms.reduce(0) { $0 + $1.scores.count }
        case .ensemble(let model): model.members.reduce(0) { $0 + $1.storedValues }
        case .external(let model): model.predictor.storedValues
        }
    }

    public var kindName: String {
        switch self {
        case .gradientBoosting: "gradient_boosting"
        case .forest: "forest"
        case .linear: "linear"
        case .explainableBoosting: "explainable_boosting"
        case .ensemble: "ensemble"
        case .external(let model): model.family
        }
    }

    private enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case kind, model
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formatVersion, forKey: .formatVersion)
        try container.encode(kindName, forKey: .kind)
        switch self {
        case .gradientBoosting(let model): try container.encode(model, forKey: .model)
        case .forest(let model): try container.encode(model, forKey: .model)
        case .linear(let model): try container.encode(model, forKey: .model)
        case .explainableBoosting(let model): try container.encode(model, forKey: .model)
        case .ensemble(let model): try container.encode(model, forKey: .model)
        case .external(let model):
            throw EncodingError.invalidValue(model.family, EncodingError.Context(codingPath: encoder.codingPath,
                debugDescription: "a model of learner family '\(model.family)' is defined outside Keel and cannot be saved"))
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(Int.self, forKey: .formatVersion)
        guard version <= Self.formatVersion else {
            throw LearnError.invalidData("the model was saved in format version \(version); this Keel reads up to version \(Self.formatVersion)")
        }
        let kind = try container.decode(String.self, forKey: .kind)
        switch kind {
        case "gradient_boosting": self = .gradientBoosting(try container.decode(GradientBoostedModel.self, forKey: .model))
        case "forest": self = .forest(try container.decode(ForestModel.self, forKey: .model))
        case "linear": self = .linear(try container.decode(LinearModel.self, forKey: .model))
        case "explainable_boosting": self = .explainableBoosting(try container.decode(ExplainableBoostingModel.self, forKey: .model))
        case "ensemble": self = .ensemble(try container.decode(EnsembleModel.self, forKey: .model))
        default: throw LearnError.invalidData("unknown model kind '\(kind)'")
        }
    }
}

/// An unfitted learner: only hyperparameters. `fit` returns a `FittedModel`, so an unfitted model cannot exist.
/// The closed, versioned form model files and trial records hold; what to do with each is its family's
/// (`family`, a `LearnerFamily`).
public enum Learner: Codable, Sendable, Equatable {
    case gradientBoosting(GradientBoostingParameters)
    case randomForest(ForestParameters)
    case linear(LinearParameters)
    case explainableBoosting(ExplainableBoostingParameters)
    /// A configuration of a family defined outside KeelLearn (tests, plug-ins): saved as its family's name,
    /// settings and seed, and read back as a configuration that cannot fit (`UnavailableFamily`).
    case external(ExternalLearner)

    /// - Parameter validation: held-out rows for early stopping (families that stop early).
    public func fit(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]? = nil,
                    validation: GradientBoosting.Validation? = nil, deadline: ContinuousClock.Instant? = nil) throws -> FittedModel {
        try family.fit(self, data: TrainingData(features: features, target: target, weights: weights),
                       context: FitContext(deadline: deadline, validation: validation))
    }
}

extension FittedModel {
    /// Boosting rounds the fit kept (the trees' own, on a linear base too), when the model boosts.
    public var boostingRounds: Int? { boostedTrees?.rounds }

    /// Whether the fit stopped at its deadline rather than by its own rule.
    public var stoppedAtDeadline: Bool { boostedTrees?.stopReason == .deadline }

    /// A linear model's coordinate-descent passes and whether they converged (nil for other models).
    public var linearConvergence: (iterations: Int, converged: Bool)? {
        if case .linear(let model) = self { (model.iterations, model.converged) } else { nil }
    }

    /// The boosted trees: alone, or the last member of boosting on a linear base.
    var boostedTrees: GradientBoostedModel? {
        switch self {
        case .gradientBoosting(let boosted): boosted
        case .ensemble(let stack): stack.members.last?.boostedTrees
        default: nil
        }
    }
}
