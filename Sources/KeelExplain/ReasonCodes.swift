import Foundation
import KeelData
import KeelLearn

/// One input column's push on one prediction, in words a business user reads.
public struct ReasonCode: Codable, Sendable, Equatable {
    public var column: String
    /// The row's value of the column as written in the data ("missing" when absent).
    public var value: String
    /// The attribution in margin units: log-odds for classifiers, target units for regression.
    public var attribution: Double
    /// For classifiers, the approximate change in the explained class's probability at this prediction:
    /// the probability minus what it would be without this column's push.
    public var probabilityChange: Double?
    public var text: String

    enum CodingKeys: String, CodingKey {
        case column, value, attribution, text
        case probabilityChange = "probability_change"
    }
}

/// Why one row was predicted as it was: the strongest pushes up and down.
public struct RowExplanation: Codable, Sendable, Equatable {
    public var row: Int
    public var prediction: String
    /// The class whose margin is explained (the positive class for binary, the predicted class for
    /// multiclass); nil for regression.
    public var explainedClass: String?
    public var probability: Double?
    public var base: Double
    public var margin: Double
    public var up: [ReasonCode]
    public var down: [ReasonCode]
    /// Every column's attribution, in the model's column order.
    public var attributions: [String: Double]

    enum CodingKeys: String, CodingKey {
        case row, prediction, probability, base, margin, up, down, attributions
        case explainedClass = "explained_class"
    }
}

/// Explanations of a trained model in the user's own columns.
public enum Explainer {
    /// Attributions per input column (one-hot levels, date parts, target encodings and text buckets folded
    /// back into the column they came from).
    public static func attributions(_ model: TrainedModel, frame: Frame) throws -> Attributions {
        let matrix = try model.predictor.features(frame)
        let task = model.schema.task?.kind ?? .regression
        let raw = try ModelExplainer.explain(model.predictor.model, task: task, matrix: matrix, names: model.predictor.pipeline.featureNames)
        return raw.folded(into: model.predictor.pipeline.sources)
    }

    /// Reason codes for `rows` of `frame` (0-based), the `topK` strongest in each direction.
    public static func reasonCodes(_ model: TrainedModel, frame: Frame, rows: [Int], topK: Int) throws -> [RowExplanation] {
        let selected = frame.selecting(rows: rows)
        let attributions = try attributions(model, frame: selected)
        let predictions = try model.predictor.predict(selected)
        let task = model.schema.task
        let classes = task?.classes ?? []
        let target = model.schema.target ?? "the target"
        return rows.enumerated().map { position, row in
            let prediction = predictions[position]
            let output: Int
            let explainedClass: String?
            switch task?.kind {
            case .binary?:
                output = 0
                explainedClass = task?.positiveClass ?? classes.last
            case .multiclass?:
                output = classes.firstIndex(of: prediction.label) ?? 0
                explainedClass = prediction.label
            default:
                output = 0
                explainedClass = nil
            }
            let margins = (0..<attributions.outputCount).map { attributions.margin(row: position, output: $0) }
            let values = Array(attributions.row(position, output: output))
            // Through the model's calibration, when it has one, so the explained probability is the predicted one.
            func probability(_ margins: [Double]) -> Double {
                switch task?.kind {
                case .binary?:
                    return model.predictor.calibration?.probability(margin: margins[0]) ?? 1 / (1 + exp(-margins[0]))
                case .multiclass?:
                    if let calibration = model.predictor.calibration { return calibration.probabilities(margins: margins, classes: margins.count)[output] }
                    let top = margins.max() ?? 0
                    let sum = margins.reduce(0) { $0 + exp($1 - top) }
                    return exp(margins[output] - top) / sum
                default: return .nan
                }
            }
            let isClassifier = task?.kind == .binary || task?.kind == .multiclass
            // The explained probability is the predicted one. A forest's margins are logits of probabilities
            // clamped away from 0 and 1, so mapping them back can differ from the prediction in the sixth
            // decimal; the changes below are measured on the margins, where the attributions live.
            let predictedIndex = explainedClass.flatMap { classes.firstIndex(of: $0) }
            let p = isClassifier ? predictedIndex.map { prediction.probabilities[$0] } ?? probability(margins) : nil
            // Words only for the pushes shown: the strongest topK each way.
            let pushing = values.indices.filter { values[$0] != 0 }
            let ups = pushing.filter { values[$0] > 0 }.sorted { values[$0] > values[$1] }.prefix(topK)
            let downs = pushing.filter { values[$0] < 0 }.sorted { values[$0] < values[$1] }.prefix(topK)
            let modelled = p == nil ? Double.nan : probability(margins)
            func code(_ f: Int) -> ReasonCode {
                let name = attributions.names[f]
                let shown = selected[name]?.displayValue(at: position) ?? "missing"
                var change: Double?
                if p != nil {
                    var without = margins
                    without[output] -= values[f]
                    change = modelled - probability(without)
                }
                let verb = values[f] > 0 ? "raised" : "lowered"
                let subject = "\(name) = \(Self.sentenceValue(shown))"
                let text: String
                if let change, let explainedClass {
                    text = "\(subject) \(verb) the probability of \(target) = \(explainedClass) by \(Readable.points(change)) (\(Readable.signed(values[f])) log-odds)"
                } else {
                    text = "\(subject) \(verb) the predicted \(target) by about \(Readable.number(abs(values[f])))"
                }
                return ReasonCode(column: name, value: shown, attribution: values[f], probabilityChange: change, text: text)
            }
            let up = ups.map(code)
            let down = downs.map(code)
            return RowExplanation(
                row: row, prediction: prediction.label, explainedClass: explainedClass, probability: p,
                base: attributions.base[output], margin: margins[output], up: up, down: down,
                attributions: Dictionary(uniqueKeysWithValues: zip(attributions.names, values)))
        }
    }

    /// A value as a sentence shows it: numbers grouped ("18,000"), long text cut at 60 characters.
    static func sentenceValue(_ value: String) -> String {
        if let number = Double(value), number.isFinite, abs(number) >= 1000 { return Readable.number(number) }
        return value.count > 60 ? String(value.prefix(59)) + "…" : value
    }
}
