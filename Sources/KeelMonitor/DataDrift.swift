import KeelData

/// When a feature counts as drifted. Drift is decided by effect size; p-values (after a false-discovery-rate
/// correction over all features) only support it. On large samples every p-value is tiny (a known failure of
/// p-value-only tools), so a p-value alone never raises an alert.
public struct DriftThresholds: Codable, Sendable, Equatable {
    /// Population stability index at or above which a distribution has shifted (0.1 small, 0.25 large are
    /// the usual readings).
    public var psi = 0.2
    /// Wasserstein distance in units of the reference's standard deviation.
    public var normalizedWasserstein = 0.1
    /// Jensen–Shannon distance (natural log) for categorical features.
    public var jensenShannon = 0.1
    /// Adjusted p-value below which the test supports an effect-size signal.
    public var alpha = 0.01
    /// Rise in the missing rate (absolute) that is a missing-value spike.
    public var missingRise = 0.1
    /// Share of values outside the reference range, or of unseen levels, that is an alert.
    public var unseenRate = 0.05
    /// Fewest current rows a feature needs before it is judged at all.
    public var minimumRows = 30

    public init() {}
}

/// One feature's comparison with its reference.
public struct FeatureDrift: Codable, Sendable, Equatable {
    public var name: String
    public var kind: ReferenceColumn.Kind
    public var referenceRows: Int
    public var currentRows: Int
    public var psi: Double
    /// Numeric: Kolmogorov–Smirnov on samples; categorical: chi-square on level counts.
    public var test: TestResult?
    public var testName: String?
    /// The test's p-value after the Benjamini–Hochberg correction over every feature.
    public var adjustedPValue: Double?
    public var wasserstein: Double?
    public var normalizedWasserstein: Double?
    public var jensenShannon: Double?
    public var referenceMissingRate: Double
    public var currentMissingRate: Double
    /// Numeric: share outside the reference's [min, max]; categorical: share of levels training never saw.
    public var unseenRate: Double
    /// Categorical: the share of new levels to expect without drift (Good-Turing: the reference's one-off levels).
    public var expectedUnseenRate: Double?
    public var drifted: Bool
    /// Why the feature was flagged (empty when it was not).
    public var reasons: [String]
    /// Histograms for reports: the reference's and the current proportions over the same bins.
    public var bins: [String]
    public var referenceShares: [Double]
    public var currentShares: [Double]
}

/// The data-drift findings for one current dataset against a model's reference profile.
public struct DataDriftReport: Codable, Sendable, Equatable {
    public var thresholds: DriftThresholds
    public var currentRows: Int
    public var features: [FeatureDrift]
    /// The predictions' distribution against the holdout predictions of training.
    public var predictions: FeatureDrift?
    public var alerts: [String]

    public var driftedFeatures: [FeatureDrift] { features.filter(\.drifted) }
}

/// Compares current data with a reference profile, feature by feature.
public enum DataDrift {
    public static func analyse(reference: ReferenceProfile, current: Frame, predictions: [Double]? = nil,
                               thresholds: DriftThresholds = DriftThresholds(), seed: UInt64 = 1) -> DataDriftReport {
        var features: [FeatureDrift] = []
        for (index, column) in reference.columns.enumerated() {
            let values = current[column.name]
            features.append(compare(column, values, thresholds: thresholds, seed: SeedStream(seed).seed("feature", index: index)))
        }
        var predictionDrift: FeatureDrift?
        if let predictions, let profile = reference.predictions {
            let column = Column(name: "prediction", values: .numeric(predictions))
            predictionDrift = compare(profile, column, thresholds: thresholds, seed: SeedStream(seed).seed("predictions"))
        }
        // One correction over every test run, predictions included.
        var all = features + (predictionDrift.map { [$0] } ?? [])
        let tested = all.indices.filter { all[$0].test != nil }
        let adjusted = TwoSampleTests.benjaminiHochberg(tested.map { all[$0].test!.pValue })
        for (k, index) in tested.enumerated() { all[index].adjustedPValue = adjusted[k] }
        for index in all.indices { decide(&all[index], thresholds: thresholds) }
        features = Array(all.prefix(features.count))
        predictionDrift = predictionDrift.map { _ in all[features.count] }
        var alerts = features.filter(\.drifted).map { "\($0.name): \($0.reasons.joined(separator: "; "))" }
        if let predictionDrift, predictionDrift.drifted {
            alerts.append("predictions: \(predictionDrift.reasons.joined(separator: "; "))")
        }
        return DataDriftReport(thresholds: thresholds, currentRows: current.rowCount, features: features, predictions: predictionDrift, alerts: alerts)
    }

    /// The statistics of one feature; `decide` judges them once p-values are adjusted.
    static func compare(_ reference: ReferenceColumn, _ column: Column?, thresholds: DriftThresholds, seed: UInt64) -> FeatureDrift {
        var result = FeatureDrift(
            name: reference.name, kind: reference.kind, referenceRows: reference.count, currentRows: column?.count ?? 0, psi: 0,
            referenceMissingRate: reference.missingRate, currentMissingRate: 1, unseenRate: 0, drifted: false, reasons: [],
            bins: [], referenceShares: [], currentShares: [])
        guard let column, column.count > 0 else { return result }
        result.currentMissingRate = Double(column.missingCount) / Double(column.count)
        switch reference.kind {
        case .numeric:
            let present = column.numbers.filter { !$0.isNaN }
            guard !present.isEmpty else { return result }
            let currentCounts = ReferenceColumn.counts(of: present, edges: reference.edges)
            result.psi = TwoSampleTests.populationStability(reference.binCounts, currentCounts)
            let sample = ReferenceColumn.sample(present, seed: seed)
            result.test = TwoSampleTests.kolmogorovSmirnov(reference.sample, sample)
            result.testName = "kolmogorov-smirnov"
            let distance = TwoSampleTests.wasserstein(reference.sample, sample)
            result.wasserstein = distance
            if let spread = reference.standardDeviation, spread > 0 { result.normalizedWasserstein = distance / spread }
            if let low = reference.minimum, let high = reference.maximum {
                result.unseenRate = Double(present.filter { $0 < low || $0 > high }.count) / Double(present.count)
            }
            result.bins = binLabels(reference.edges)
            result.referenceShares = shares(reference.binCounts)
            result.currentShares = shares(currentCounts)
        case .categorical:
            var index: [String: Int] = [:]
            for (i, level) in reference.levels.enumerated() { index[level] = i }
            var currentCounts = [Int](repeating: 0, count: reference.levels.count)
            var unseen: [String: Int] = [:]
            for row in 0..<column.count {
                guard let value = column.displayValue(at: row) else { continue }
                if let i = index[value] { currentCounts[i] += 1 } else { unseen[value, default: 0] += 1 }
            }
            let seen = currentCounts.reduce(0, +), novel = unseen.values.reduce(0, +)
            guard seen + novel > 0 else { return result }
            // Levels too rare to judge (fewer than 5 expected in either sample, the usual chi-square rule) share
            // one bin with the unseen levels, so sparse, high-cardinality columns are not noise-driven alarms.
            let referenceTotal = Double(reference.levelCounts.reduce(0, +)), currentTotal = Double(seen + novel)
            var referenceCounts: [Int] = [], allCurrent: [Int] = [], bins: [String] = []
            var rareReference = 0, rareCurrent = novel
            for (i, level) in reference.levels.enumerated() {
                let share = Double(reference.levelCounts[i]) / referenceTotal
                if share * currentTotal < 5 || share * referenceTotal < 5 {
                    rareReference += reference.levelCounts[i]
                    rareCurrent += currentCounts[i]
                } else {
                    referenceCounts.append(reference.levelCounts[i])
                    allCurrent.append(currentCounts[i])
                    bins.append(level)
                }
            }
            referenceCounts.append(rareReference)
            allCurrent.append(rareCurrent)
            bins.append(rareReference > 0 ? "(rare or unseen)" : "(unseen)")
            result.psi = TwoSampleTests.populationStability(referenceCounts, allCurrent)
            result.test = TwoSampleTests.chiSquare(referenceCounts, allCurrent)
            result.testName = "chi-square"
            result.jensenShannon = TwoSampleTests.jensenShannon(referenceCounts.map(Double.init), allCurrent.map(Double.init))
            // New levels are expected where the reference itself is full of one-offs: the Good-Turing estimate
            // of unseen mass (levels seen once / rows) is subtracted, so only a surplus of new levels counts.
            let singletons = Double(reference.levelCounts.filter { $0 == 1 }.count)
            result.expectedUnseenRate = referenceTotal > 0 ? singletons / referenceTotal : 0
            result.unseenRate = Double(novel) / currentTotal
            result.bins = bins
            result.referenceShares = shares(referenceCounts)
            result.currentShares = shares(allCurrent)
        }
        return result
    }

    static func decide(_ drift: inout FeatureDrift, thresholds: DriftThresholds) {
        var reasons: [String] = []
        let presentRows = Int(Double(drift.currentRows) * (1 - drift.currentMissingRate))
        if drift.currentRows == 0 {
            reasons.append("missing from the current data")
        } else if presentRows >= thresholds.minimumRows {
            let supported = (drift.adjustedPValue ?? 1) < thresholds.alpha
            var effects: [String] = []
            if drift.psi >= thresholds.psi { effects.append("PSI \(format(drift.psi))") }
            if let w = drift.normalizedWasserstein, w >= thresholds.normalizedWasserstein { effects.append("Wasserstein \(format(w)) sd") }
            if let js = drift.jensenShannon, js >= thresholds.jensenShannon { effects.append("Jensen-Shannon \(format(js))") }
            if !effects.isEmpty && supported {
                reasons.append("distribution shifted (\(effects.joined(separator: ", ")); \(drift.testName ?? "test") adjusted p \(formatP(drift.adjustedPValue ?? 1)))")
            }
            // The surplus of new levels must be large (the threshold) and clear of sampling noise (three
            // standard errors of the difference of the two rates).
            let expected = drift.expectedUnseenRate ?? 0
            let noise = 3 * (drift.unseenRate * (1 - drift.unseenRate) / Double(max(presentRows, 1))
                + expected * (1 - expected) / Double(max(drift.referenceRows, 1))).squareRoot()
            if drift.unseenRate - expected >= max(thresholds.unseenRate, drift.kind == .categorical ? noise : 0) {
                reasons.append("\(format(drift.unseenRate * 100))% \(drift.kind == .numeric ? "outside the training range" : "unseen levels")")
            }
        }
        if drift.currentRows > 0, drift.currentMissingRate - drift.referenceMissingRate >= thresholds.missingRise {
            reasons.append("missing values rose from \(format(drift.referenceMissingRate * 100))% to \(format(drift.currentMissingRate * 100))%")
        }
        drift.reasons = reasons
        drift.drifted = !reasons.isEmpty
    }

    private static func shares(_ counts: [Int]) -> [Double] {
        let total = Double(counts.reduce(0, +))
        return counts.map { total > 0 ? Double($0) / total : 0 }
    }

    private static func binLabels(_ edges: [Double]) -> [String] {
        guard !edges.isEmpty else { return ["all"] }
        var labels = ["≤ \(format(edges[0]))"]
        for i in 1..<edges.count { labels.append("\(format(edges[i - 1]))–\(format(edges[i]))") }
        labels.append("> \(format(edges[edges.count - 1]))")
        return labels
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 1000 || value == value.rounded() ? String(Int(value.rounded())) : String(format: "%.3g", value)
    }

    static func formatP(_ value: Double) -> String { value < 1e-4 ? String(format: "%.1e", value) : String(format: "%.4f", value) }
}
