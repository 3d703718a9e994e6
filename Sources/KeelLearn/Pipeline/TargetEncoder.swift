import KeelData
import Glibc

/// Smoothed mean of the target per level (per class for multiclass): (Σy + m·prior) / (count + m).
/// Unseen and missing levels get the prior.
public struct TargetEncoder: Codable, Sendable, Equatable {
    public let column: String
    /// Encoded value per level and output: `means[level][k]`.
    public let means: [String: [Double]]
    public let prior: [Double]
    public let smoothing: Double

    init(column: String, strings: EncodedStrings, target: TargetEncoding, smoothing: Double) {
        self.column = column
        self.smoothing = smoothing
        let rows = Array(0..<strings.codes.count)
        let (sums, counts, prior) = Self.statistics(strings, target: target, rows: rows)
        self.prior = prior
        var means: [String: [Double]] = [:]
        for (code, level) in strings.levels.enumerated() where counts[code] > 0 {
            means[level] = (0..<prior.count).map { (sums[code][$0] + smoothing * prior[$0]) / (counts[code] + smoothing) }
        }
        self.means = means
    }

    var featureNames: [String] { prior.count == 1 ? ["\(column).target_mean"] : prior.indices.map { "\(column).class_\($0)_rate" } }

    private static func outputs(_ target: TargetEncoding) -> Int { target.task.kind == .multiclass ? target.classCount : 1 }

    private static func value(_ target: TargetEncoding, row: Int, output k: Int) -> Double {
        target.task.kind == .multiclass ? (Int(target.values[row]) == k ? 1 : 0) : target.values[row]
    }

    private static func statistics(_ strings: EncodedStrings, target: TargetEncoding, rows: [Int]) -> ([[Double]], [Double], [Double]) {
        let k = outputs(target)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: k), count: strings.levels.count)
        var counts = [Double](repeating: 0, count: strings.levels.count)
        var total = [Double](repeating: 0, count: k)
        for row in rows {
            for o in 0..<k { total[o] += value(target, row: row, output: o) }
            let code = strings.codes[row]
            guard code != EncodedStrings.missing else { continue }
            counts[Int(code)] += 1
            for o in 0..<k { sums[Int(code)][o] += value(target, row: row, output: o) }
        }
        return (sums, counts, total.map { $0 / Double(max(rows.count, 1)) })
    }

    private func strings(_ frame: Frame) throws -> EncodedStrings {
        guard let column = frame[self.column] else { throw LearnError.schemaMismatch("feature column '\(self.column)' is missing from the data") }
        guard case .categorical(let s) = try column.converted(to: .categorical).values else { return EncodedStrings(codes: [], levels: []) }
        return s
    }

    func transform(_ frame: Frame) throws -> [Double] {
        let s = try strings(frame)
        let n = s.codes.count
        let byCode = s.levels.map { means[$0] ?? prior }
        var out = [Double](repeating: 0, count: n * prior.count)
        for i in 0..<n {
            let encoded = s.codes[i] == EncodedStrings.missing ? prior : byCode[Int(s.codes[i])]
            for k in 0..<prior.count { out[k * n + i] = encoded[k] }
        }
        return out
    }

    /// Training rows encoded from the other folds only.
    func outOfFold(_ frame: Frame, target: TargetEncoding, folds: Int, seed: UInt64) throws -> [Double] {
        let s = try strings(frame)
        let n = s.codes.count
        let k = prior.count
        var out = [Double](repeating: 0, count: n * k)
        for fold in try Splits.kFold(rows: n, k: min(folds, n), seed: seed) {
            let (sums, counts, foldPrior) = Self.statistics(s, target: target, rows: fold.train)
            for i in fold.validation {
                let code = s.codes[i]
                for o in 0..<k {
                    out[o * n + i] = code == EncodedStrings.missing || counts[Int(code)] == 0
                        ? foldPrior[o]
                        : (sums[Int(code)][o] + smoothing * foldPrior[o]) / (counts[Int(code)] + smoothing)
                }
            }
        }
        return out
    }
}
