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
    /// How much worse than the holdout score a window may be, relative to it, before it counts as degraded.
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
        guard let reference = model.profile else { throw MonitorError.noReference }
        let predictions = try? model.predictor.predict(data)
        let drift = DataDrift.analyse(reference: reference, current: data, predictions: predictions?.map(model.predictor.monitoredScore),
                                      thresholds: settings.thresholds, seed: settings.seed)
        let timeName = settings.timeColumn ?? model.schema.columns(withRole: .time).first?.name
        let timeline = try timeName.map { try self.timeline(reference: reference, data: data, timeColumn: $0, settings: settings) }
        var concept: ConceptDriftReport?
        var bias: [BiasAudit] = []
        guard let task = model.schema.task, let targetName = model.schema.target, let target = data[targetName] else {
            var report = MonitorReport(model: modelName, data: dataName, createdAt: createdAt, dataDrift: drift, conceptDrift: nil,
                                       bias: try audits(model: model, data: data, predictions: predictions, truth: nil, settings: settings))
            report.timeline = timeline
            return report
        }
        let labelled = (0..<data.rowCount).filter { !target.isMissing(at: $0) }
        let frame = data.selecting(rows: labelled)
        let truth = try TargetEncoding(column: frame[targetName]!.converted(to: task.kind == .regression ? .numeric : .categorical), task: task)
        if frame.rowCount > 0 {
            // The rows were scored above; without that (a value that does not fit), this throws the reason.
            let scored = try predictions.map { all in labelled.map { all[$0] } } ?? model.predictor.predict(frame)
            let outputs = task.kind == .regression ? scored.map { $0.value ?? .nan } : scored.flatMap(\.probabilities)
            let errors: [Double]
            if task.kind == .regression {
                let spread = max(reference.predictions?.standardDeviation ?? 1, 1e-12)
                errors = zip(scored, truth.values).map { min(1, abs(($0.value ?? .nan) - $1) / (3 * spread)) }
            } else {
                let classes = task.classes ?? []
                errors = zip(scored, truth.values).map { classes[Int($1)] == $0.label ? 0 : 1 }
            }
            let times = try timeName.map { try self.times(frame, column: $0) }
            concept = try ConceptDriftReport.analyse(metric: model.provenance.metric, baseline: model.provenance.holdoutScore, truth: truth.values, outputs: outputs,
                                                     classCount: truth.classCount, errors: errors, times: times,
                                                     bucketSeconds: settings.bucketSeconds, tolerance: settings.tolerance)
            bias = try audits(model: model, data: frame, predictions: scored, truth: truth.values, settings: settings)
        }
        var report = MonitorReport(model: modelName, data: dataName, createdAt: createdAt, dataDrift: drift, conceptDrift: concept, bias: bias)
        report.timeline = timeline
        return report
    }

    static func times(_ frame: Frame, column name: String) throws -> [Double] {
        guard let column = frame[name] else { throw MonitorError.invalid("the data has no time column '\(name)'") }
        return (column.kind == .numeric || column.kind == .datetime ? column : try column.converted(to: .datetime)).numbers
    }

    /// Data drift in each window of `bucketSeconds` (or each tenth of the time range).
    static func timeline(reference: ReferenceProfile, data: Frame, timeColumn: String, settings: MonitorSettings) throws -> DriftTimeline {
        let times = try self.times(data, column: timeColumn)
        let present = times.filter { !$0.isNaN }
        guard let first = present.min(), let last = present.max() else {
            return DriftTimeline(windows: [], features: reference.columns.map(\.name), psi: [], drifted: [])
        }
        let width = settings.bucketSeconds ?? max((last - first) / 10, 1)
        let origin = settings.bucketSeconds == nil ? first : (first / width).rounded(.down) * width
        var rows: [Int: [Int]] = [:]
        for (row, t) in times.enumerated() where !t.isNaN { rows[min(Int((t - origin) / width), settings.bucketSeconds == nil ? 9 : .max), default: []].append(row) }
        let windows = rows.keys.sorted().filter { rows[$0]!.count >= settings.thresholds.minimumRows }
        var psi = [[Double]](repeating: [], count: reference.columns.count)
        var drifted = [[Bool]](repeating: [], count: reference.columns.count)
        for window in windows {
            let report = DataDrift.analyse(reference: reference, current: data.selecting(rows: rows[window]!), thresholds: settings.thresholds,
                                           seed: SeedStream(settings.seed).seed("window", index: window))
            for (f, feature) in report.features.enumerated() {
                psi[f].append(feature.psi)
                drifted[f].append(feature.drifted)
            }
        }
        return DriftTimeline(windows: windows.map { origin + Double($0) * width }, features: reference.columns.map(\.name), psi: psi, drifted: drifted)
    }

    private static func audits(model: TrainedModel, data: Frame, predictions: [Predictor.Prediction]?, truth: [Double]?,
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
