import Foundation
import KeelData
import KeelRegistry

/// Champion against shadow on the same live requests: how often they agree and, where labels came back,
/// how well each did.
public struct ShadowReport: Encodable, Sendable {
    public var model: String
    public var champion: [String]
    public var shadow: [String]
    public var pairedRows: Int
    public var agreement: Double
    public var meanScoreDifference: Double
    public var labelledRows: Int
    public var metric: String?
    public var championScore: Double?
    public var shadowScore: Double?

    public static func make(name: String, champion: [LoggedPrediction], shadow: [LoggedPrediction], task: TaskKind) -> ShadowReport {
        var byKey: [String: LoggedPrediction] = [:]
        for item in shadow { byKey["\(item.record.requestID)#\(item.record.row)"] = item }
        let pairs = champion.compactMap { item in byKey["\(item.record.requestID)#\(item.record.row)"].map { (item, $0) } }
        let agree = pairs.filter { $0.0.record.prediction == $0.1.record.prediction }.count
        let difference = pairs.map { abs($0.0.record.score - $0.1.record.score) }.filter(\.isFinite)
        var report = ShadowReport(model: name, champion: Array(Set(pairs.map(\.0.record.version))).sorted(), shadow: Array(Set(pairs.map(\.1.record.version))).sorted(),
                                  pairedRows: pairs.count, agreement: pairs.isEmpty ? .nan : Double(agree) / Double(pairs.count),
                                  meanScoreDifference: difference.isEmpty ? .nan : difference.reduce(0, +) / Double(difference.count), labelledRows: 0)
        let labelled = pairs.filter { $0.0.label != nil }
        report.labelledRows = labelled.count
        guard !labelled.isEmpty else { return report }
        if task == .regression {
            report.metric = "rmse"
            func rmse(_ side: (LoggedPrediction, LoggedPrediction) -> Double) -> Double {
                let errors = labelled.compactMap { pair -> Double? in Double(pair.0.label!).map { side(pair.0, pair.1) - $0 } }
                return (errors.reduce(0) { $0 + $1 * $1 } / Double(max(errors.count, 1))).squareRoot()
            }
            report.championScore = rmse { a, _ in a.record.score }
            report.shadowScore = rmse { _, b in b.record.score }
        } else {
            report.metric = "accuracy"
            report.championScore = Double(labelled.filter { $0.0.record.prediction == $0.0.label }.count) / Double(labelled.count)
            report.shadowScore = Double(labelled.filter { $0.1.record.prediction == $0.0.label }.count) / Double(labelled.count)
        }
        return report
    }

    public var text: String {
        var lines = ["\(model): champion \(champion.joined(separator: ", ")) vs shadow \(shadow.joined(separator: ", ")) on \(pairedRows) live rows",
                     String(format: "  agreement %.1f%%, mean score difference %.4f", agreement * 100, meanScoreDifference)]
        if let metric, let championScore, let shadowScore {
            lines.append(String(format: "  %@ on %d labelled rows: champion %.4f, shadow %.4f", metric, labelledRows, championScore, shadowScore))
        } else {
            lines.append("  no feedback labels yet for these rows")
        }
        return lines.joined(separator: "\n")
    }
}
