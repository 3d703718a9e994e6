import KeelData
import KeelLearn

/// What a monitoring run compares and how strictly.
public struct MonitorSettings: Sendable {
    public var thresholds = DriftThresholds()
    public var fairness = FairnessThresholds()
    /// A column of times (seconds since 1970) to order labelled rows and cut windows by.
    public var timeColumn: String?
    /// Window length in seconds; nil for ten equal windows.
    public var bucketSeconds: Double?
    /// How far below the holdout score a window may fall before it counts as degraded.
    public var tolerance = 0.05
    /// Protected attributes to audit; nil audits the schema's protected columns.
    public var protected: [String]?
    public var seed: UInt64 = 1

    public init() {}
}

public enum MonitorError: Error, Sendable, CustomStringConvertible {
    case noReference
    case invalid(String)

    public var description: String {
        switch self {
        case .noReference: "the model has no reference profile (it was trained by a Keel from before monitoring); train it again to monitor it"
        case .invalid(let message): message
        }
    }
}

/// One monitoring run of a model on current data: data drift always; concept drift when the data has the
/// target; bias audits for protected attributes of binary models.
public enum Monitor {
    public static func run(model: TrainedModel, data: Frame, modelName: String, dataName: String, createdAt: String,
                           settings: MonitorSettings = MonitorSettings()) throws -> MonitorReport {
        guard let reference = model.referenceProfile else { throw MonitorError.noReference }
        let predictions = try? model.predict(data)
        let drift = DataDrift.analyse(reference: reference, current: data, predictions: predictions?.map(model.monitoredScore),
                                      thresholds: settings.thresholds, seed: settings.seed)
        var concept: ConceptDriftReport?
        var bias: [BiasAudit] = []
        guard let task = model.schema.task, let targetName = model.schema.target, let target = data[targetName] else {
            return MonitorReport(model: modelName, data: dataName, createdAt: createdAt, dataDrift: drift, conceptDrift: nil,
                                 bias: try audits(model: model, data: data, predictions: predictions, truth: nil, settings: settings))
        }
        let labelled = (0..<data.rowCount).filter { !target.isMissing(at: $0) }
        let frame = data.selecting(rows: labelled)
        let truth = try TargetEncoding(column: frame[targetName]!.converted(to: task.kind == .regression ? .numeric : .categorical), task: task)
        if frame.rowCount > 0 {
            let outputs = try model.outputs(frame)
            let scored = try model.predict(frame)
            let errors: [Double]
            if task.kind == .regression {
                let spread = max(reference.predictions?.standardDeviation ?? 1, 1e-12)
                errors = zip(scored, truth.values).map { min(1, abs(($0.value ?? .nan) - $1) / (3 * spread)) }
            } else {
                let classes = task.classes ?? []
                errors = zip(scored, truth.values).map { classes[Int($1)] == $0.label ? 0 : 1 }
            }
            let timeName = settings.timeColumn ?? model.schema.columns(withRole: .time).first?.name
            var times: [Double]?
            if let timeName {
                guard let column = frame[timeName] else { throw MonitorError.invalid("the data has no time column '\(timeName)'") }
                times = DataDrift.numbers(column.kind == .numeric || column.kind == .datetime ? column : try column.converted(to: .datetime))
            }
            concept = try ConceptDriftReport.analyse(metric: model.metric, baseline: model.holdoutScore, truth: truth.values, outputs: outputs,
                                                     classCount: truth.classCount, errors: errors, times: times,
                                                     bucketSeconds: settings.bucketSeconds, tolerance: settings.tolerance)
            bias = try audits(model: model, data: frame, predictions: scored, truth: truth.values, settings: settings)
        }
        return MonitorReport(model: modelName, data: dataName, createdAt: createdAt, dataDrift: drift, conceptDrift: concept, bias: bias)
    }

    private static func audits(model: TrainedModel, data: Frame, predictions: [TrainedModel.Prediction]?, truth: [Double]?,
                               settings: MonitorSettings) throws -> [BiasAudit] {
        guard let task = model.schema.task, task.kind == .binary, let classes = task.classes, classes.count == 2, let predictions else { return [] }
        let attributes = settings.protected ?? model.schema.columns(withRole: .protected).map(\.name)
        return try attributes.map { name in
            guard let column = data[name] else { throw MonitorError.invalid("the data has no column '\(name)' to audit") }
            return BiasAudit.audit(attribute: name, positiveClass: classes[1], groups: (0..<data.rowCount).map { column.displayValue(at: $0) },
                                   predicted: predictions.map { $0.label == classes[1] }, actual: truth.map { $0.map { $0 == 1 } },
                                   thresholds: settings.fairness)
        }
    }
}
