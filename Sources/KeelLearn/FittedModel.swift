import Foundation

/// Every kind of fitted model Keel saves, as a closed enum: saving and loading are exhaustive and visible
/// here, and the encoded form carries a format version so that a later Keel can read every earlier one.
public enum FittedModel: Codable, Sendable, Equatable {
    case gradientBoosting(GradientBoostedModel)
    case forest(ForestModel)
    case linear(LinearModel)
    case explainableBoosting(ExplainableBoostingModel)
    case ensemble(EnsembleModel)

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
        }
    }

    public var kindName: String {
        switch self {
        case .gradientBoosting: "gradient_boosting"
        case .forest: "forest"
        case .linear: "linear"
        case .explainableBoosting: "explainable_boosting"
        case .ensemble: "ensemble"
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
public enum Learner: Codable, Sendable, Equatable {
    case gradientBoosting(GradientBoostingParameters)
    case randomForest(ForestParameters)
    case linear(LinearParameters)
    case explainableBoosting(ExplainableBoostingParameters)

    /// - Parameter validation: held-out rows for early stopping (gradient boosting only).
    public func fit(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]? = nil,
                    validation: GradientBoosting.Validation? = nil, deadline: ContinuousClock.Instant? = nil) throws -> FittedModel {
        switch self {
        case .gradientBoosting(let p) where p.linearBase != nil:
            .ensemble(try ResidualBoosting(parameters: p).fit(features, target: target, weights: weights, validation: validation, deadline: deadline))
        case .gradientBoosting(let p):
            .gradientBoosting(try GradientBoosting(parameters: p).fit(features, target: target, weights: weights, validation: validation, deadline: deadline))
        case .randomForest(let p):
            .forest(try RandomForest(parameters: p).fit(features, target: target, weights: weights, deadline: deadline))
        case .linear(let p):
            .linear(try LinearLearner(parameters: p).fit(features, target: target, weights: weights, deadline: deadline))
        case .explainableBoosting(let p):
            .explainableBoosting(try ExplainableBoosting(parameters: p).fit(features, target: target, weights: weights, deadline: deadline))
        }
    }
}
