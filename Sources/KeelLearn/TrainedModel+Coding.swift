import Foundation
import KeelData

/// A model's payload. Artefact format 3 writes the three parts as they are:
/// `{"predictor": …, "provenance": …, "profile": …}`. Formats 1 and 2 wrote one flat object (the predictor's
/// and the provenance's fields side by side, the profile as `referenceProfile`, the columns read as text as
/// `textColumns`); it is still read, into the same parts, so a model from any earlier Keel predicts as it did.
extension TrainedModel: Codable {
    private enum CodingKeys: String, CodingKey {
        case predictor, provenance, profile
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(predictor, forKey: .predictor)
        try container.encode(provenance, forKey: .provenance)
        try container.encodeIfPresent(profile, forKey: .profile)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.predictor) {
            predictor = try container.decode(Predictor.self, forKey: .predictor)
            provenance = try container.decode(ModelProvenance.self, forKey: .provenance)
            profile = try container.decodeIfPresent(ReferenceProfile.self, forKey: .profile)
        } else {
            self = try FlatPayload(from: decoder).trained
        }
    }

    /// The payload of artefact formats 1 and 2, field for field as they were written.
    private struct FlatPayload: Decodable {
        var keelVersion: String
        var createdAt: String
        var schema: Schema
        var pipeline: Pipeline
        var model: FittedModel
        var metric: Metric
        var validation: String
        var crossValidatedScore: Double
        var holdoutScore: Double
        var dataFingerprint: String
        var seed: UInt64
        var trialSchedule: [Learner]
        var textColumns: [String]?
        var refittedOnAllRows: Bool?
        var calibration: Calibration?
        var decisionThreshold: Double?
        var referenceProfile: ReferenceProfile?

        /// The parts, with the columns read as text moved into the schema, where the input contract reads them.
        var trained: TrainedModel {
            var schema = schema
            if let textColumns, !textColumns.isEmpty, schema.textColumns == nil { schema.textColumns = textColumns }
            return TrainedModel(
                predictor: Predictor(schema: schema, pipeline: pipeline, model: model, calibration: calibration, decisionThreshold: decisionThreshold),
                provenance: ModelProvenance(keelVersion: keelVersion, createdAt: createdAt, metric: metric, validation: validation,
                                            crossValidatedScore: crossValidatedScore, holdoutScore: holdoutScore, dataFingerprint: dataFingerprint,
                                            seed: seed, trialSchedule: trialSchedule, refittedOnAllRows: refittedOnAllRows ?? false),
                profile: referenceProfile)
        }
    }
}
