import KeelLearn

/// The model's performance in one time window of labelled data.
public struct PerformanceWindow: Codable, Sendable, Equatable {
    /// Seconds since 1970 (UTC) at the window's start and end; row positions when the data has no time.
    public var start: Double
    public var end: Double
    public var rows: Int
    public var score: Double
    /// Score minus the holdout baseline, signed so that negative is worse.
    public var change: Double
    public var degraded: Bool
}

/// Where a streaming detector signalled drift in the error stream.
public struct DetectorFinding: Codable, Sendable, Equatable {
    public var detector: String
    /// Row positions (in time order) of each drift signal.
    public var rows: [Int]
    /// The time of each, when the data has a time column.
    public var times: [Double]?
}

/// Concept drift: performance over time against the holdout baseline, and detectors over the error stream.
public struct ConceptDriftReport: Codable, Sendable, Equatable {
    public var metric: String
    public var baseline: Double
    public var tolerance: Double
    public var overall: Double
    public var windows: [PerformanceWindow]
    public var detectors: [DetectorFinding]
    public var alerts: [String]

    /// - Parameters:
    ///   - truth: encoded labels (class index) or values, one per row.
    ///   - outputs: the model's outputs as `Metric.evaluate` takes them (probabilities per class, or values).
    ///   - errors: one value in [0, 1] per row for the detectors (0/1 misclassification, or a scaled residual).
    ///   - times: seconds per row; rows are put in time order. Without times, windows are equal row counts.
    ///   - tolerance: how much worse than the baseline a window may be, relative to it (0.05: 5%), before it
    ///     is degraded; relative, so one setting serves AUC and RMSE alike.
    public static func analyse(metric: Metric, baseline: Double, truth: [Double], outputs: [Double], classCount: Int,
                               errors: [Double], times: [Double]?, bucketSeconds: Double?, tolerance: Double) throws -> ConceptDriftReport {
        let n = truth.count
        let width = n > 0 ? outputs.count / n : 1
        let order = times.map { t in (0..<n).sorted { (t[$0], $0) < (t[$1], $1) } } ?? Array(0..<n)
        // Windows: calendar buckets of `bucketSeconds` with a time column, else ten equal slices.
        var groups: [(start: Double, end: Double, rows: [Int])] = []
        if let times, let bucket = bucketSeconds, bucket > 0 {
            for row in order where !times[row].isNaN {
                let start = (times[row] / bucket).rounded(.down) * bucket
                if groups.last?.start == start { groups[groups.count - 1].rows.append(row) } else { groups.append((start, start + bucket, [row])) }
            }
        } else {
            let size = max(1, (n + 9) / 10)
            for first in stride(from: 0, to: n, by: size) {
                let rows = Array(order[first..<min(n, first + size)])
                groups.append((times.map { $0[rows.first!] } ?? Double(first), times.map { $0[rows.last!] } ?? Double(first + rows.count), rows))
            }
        }
        func score(_ rows: [Int]) throws -> Double {
            let y = rows.map { truth[$0] }
            var predictions: [Double] = []
            predictions.reserveCapacity(rows.count * width)
            for row in rows { predictions += outputs[(row * width)..<((row + 1) * width)] }
            return try metric.evaluate(truth: y, predictions: predictions, classCount: classCount)
        }
        func signed(_ value: Double) -> Double { metric.higherIsBetter ? value - baseline : baseline - value }
        var windows: [PerformanceWindow] = []
        var alerts: [String] = []
        for group in groups where group.rows.count >= 20 {
            // A window whose labels are all one class has no AUC; it is skipped rather than guessed.
            guard let value = try? score(group.rows), value.isFinite else { continue }
            let change = signed(value)
            windows.append(PerformanceWindow(start: group.start, end: group.end, rows: group.rows.count, score: value, change: change,
                                             degraded: change < -tolerance * abs(baseline)))
        }
        let degraded = windows.filter(\.degraded)
        if !degraded.isEmpty {
            alerts.append("\(metric.rawValue) was more than \(String(format: "%g", tolerance * 100))% worse than the holdout's \(String(format: "%.4f", baseline)) in \(degraded.count) of \(windows.count) windows")
        }
        let ordered = order.map { errors[$0] }
        var findings = [
            DetectorFinding(detector: "ADWIN", rows: scan(ordered, ADWIN())),
            DetectorFinding(detector: "Page-Hinkley", rows: scan(ordered, PageHinkley())),
            DetectorFinding(detector: "DDM", rows: scan(ordered, DDM())),
        ]
        if let times { for i in findings.indices { findings[i].times = findings[i].rows.map { times[order[$0]] } } }
        let overall = n > 0 ? (try? score(Array(0..<n))) ?? .nan : .nan
        return ConceptDriftReport(metric: metric.rawValue, baseline: baseline, tolerance: tolerance, overall: overall, windows: windows,
                                  detectors: findings, alerts: alerts)
    }

    private static func scan<D: StreamDetector>(_ values: [Double], _ detector: D) -> [Int] {
        var detector = detector
        var rows: [Int] = []
        for (i, value) in values.enumerated() where detector.update(value) == .drift { rows.append(i) }
        return rows
    }
}
