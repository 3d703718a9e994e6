import Foundation
import KeelData

/// What scores rows: the schema rows are checked against, the fitted pipeline and model, and how margins
/// become probabilities and labels. The part of a `TrainedModel` that prediction, explanation and export
/// need; how it was made is its `ModelProvenance`.
public struct Predictor: Codable, Sendable {
    public var schema: Schema
    public var pipeline: Pipeline
    public var model: FittedModel
    /// Classifiers: the map from margins to calibrated probabilities (Platt or isotonic for binary, a
    /// temperature for multiclass), when calibration improved the out-of-fold log loss; nil otherwise.
    public var calibration: Calibration?
    /// Binary classifiers: the positive class is predicted when its probability is at least this (0.5 when nil).
    public var decisionThreshold: Double?

    public init(schema: Schema, pipeline: Pipeline, model: FittedModel, calibration: Calibration? = nil, decisionThreshold: Double? = nil) {
        self.schema = schema
        self.pipeline = pipeline
        self.model = model
        self.calibration = calibration
        self.decisionThreshold = decisionThreshold
    }

    // MARK: Prediction

    /// One row's prediction: the label as spelled in training (or the value) and, for classifiers, the
    /// probability of each class in the task's class order.
    public struct Prediction: Sendable {
        public var label: String
        public var value: Double?
        public var probabilities: [Double]
    }

    /// Scores `frame` after checking it against the schema: feature columns that never had missing values in
    /// training must be present; others may be absent (then missing); extra columns are ignored.
    public func predict(_ frame: Frame) throws -> [Prediction] {
        predictions(try outputs(frame))
    }

    /// The predictions `outputs` (this model's, for some rows) stand for: labels by argmax or threshold.
    public func predictions(_ output: [Double]) -> [Prediction] {
        guard let task = schema.task else { return [] }
        switch task.kind {
        case .regression:
            return output.map { Prediction(label: NumberFormatting.canonical($0), value: $0, probabilities: []) }
        case .binary, .multiclass:
            let classes = task.classes ?? []
            let k = classes.count
            let threshold = task.kind == .binary ? decisionThreshold : nil
            return (0..<(k > 0 ? output.count / k : 0)).map { row in
                let p = Array(output[(row * k)..<((row + 1) * k)])
                var best = 0
                if let threshold {
                    best = p[1] >= threshold ? 1 : 0
                } else {
                    for c in 1..<k where p[c] > p[best] { best = c }
                }
                return Prediction(label: classes[best], value: nil, probabilities: p)
            }
        }
    }

    /// The one number per prediction that monitoring follows: the positive-class probability (binary), the
    /// top probability (multiclass), the value (regression).
    public func monitoredScore(_ prediction: Prediction) -> Double {
        switch schema.task?.kind {
        case .binary: prediction.probabilities.count > 1 ? prediction.probabilities[1] : .nan
        case .multiclass: prediction.probabilities.max() ?? .nan
        default: prediction.value ?? .nan
        }
    }

    // MARK: Input rules, shared by batch scoring and the server

    /// A value that does not have its feature's kind, named by 0-based row and column, with the contract's
    /// verdict on it.
    public struct InvalidCell: Sendable, Equatable {
        public var row: Int
        public var column: String
        public var value: String
        public var problem: InputContract.Problem
    }

    /// How a frame to be scored relates to the schema.
    public struct InputCheck: Sendable {
        /// Columns that play no part in scoring: the target and any column that is neither a feature nor an id.
        public var ignoredColumns: [String]
        /// Cells that cannot be read as their feature's kind, in row order.
        public var invalidCells: [InvalidCell]
    }

    /// What the model accepts: its schema's input contract, which every source of rows to score reads by.
    public var inputContract: InputContract { InputContract(schema: schema) }

    /// Checks `frame` against the input contract before scoring: a required feature absent throws; values
    /// the contract refuses are listed so the caller can fail on the first or reject those rows and score
    /// the rest.
    public func checkInput(_ frame: Frame) throws -> InputCheck {
        let contract = inputContract
        if let absent = contract.firstAbsent({ frame[$0] != nil }) { throw LearnError.schemaMismatch(absent.message) }
        var invalid: [InvalidCell] = []
        for (f, feature) in contract.features.enumerated() {
            guard let column = frame[feature.name] else { continue }
            for cell in contract.refusals(column, feature: f) {
                invalid.append(InvalidCell(row: cell.row, column: feature.name, value: cell.value, problem: cell.problem))
            }
        }
        invalid.sort { $0.row < $1.row }
        let kept = Set(contract.features.map(\.name) + schema.columns(withRole: .id).map(\.name))
        return InputCheck(ignoredColumns: frame.columnNames.filter { !kept.contains($0) }, invalidCells: invalid)
    }

    /// Probabilities (row-major, one per class) or values, as the metrics take them.
    public func outputs(_ frame: Frame) throws -> [Double] {
        let matrix = try features(frame)
        guard let calibration, let task = schema.task, task.kind != .regression else { return try model.predict(matrix) }
        let classes = task.kind == .binary ? 1 : task.classes?.count ?? 0
        return calibration.probabilities(margins: try model.rawScores(matrix, task: task.kind), classes: classes)
    }

    /// The model's input matrix for `frame`: schema checks, kind conversions, then the fitted pipeline.
    public func features(_ frame: Frame) throws -> FeatureMatrix {
        try pipeline.transform(try conform(frame))
    }

    /// `frame` with every feature read by the input contract (absent optional features as missing); the
    /// first value the contract refuses throws, naming its row and column.
    private func conform(_ frame: Frame) throws -> Frame {
        let contract = inputContract
        guard !contract.features.indices.allSatisfy({ f in frame[contract.features[f].name].map { contract.readsAsIs($0, feature: f) } ?? false }) else {
            return frame
        }
        var columns = frame.columns
        for (f, feature) in contract.features.enumerated() {
            guard let index = frame.index(of: feature.name) else {
                if let absent = contract.absent(feature: f) { throw LearnError.schemaMismatch(absent.message) }
                var missing = InputContract.Builder(kind: feature.kind, capacity: frame.rowCount)
                for _ in 0..<frame.rowCount { missing.append(.missing) }
                columns.append(missing.column(named: feature.name))
                continue
            }
            guard !contract.readsAsIs(columns[index], feature: f) else { continue }
            let (read, refused) = contract.read(columns[index], feature: f)
            if let first = refused.first {
                throw LearnError.schemaMismatch("column '\(feature.name)', row \(first.row + 1): " + first.problem.message(value: first.value))
            }
            columns[index] = read
        }
        return try Frame(columns: columns)
    }
}
