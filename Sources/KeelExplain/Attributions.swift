import KeelLearn

/// Additive attributions in a model's raw-margin space (log-odds for binary classifiers, per-class margins
/// for multiclass, target units for regression): for every row and output,
/// `base[k] + Σ_f value(row, k, f)` equals the model's raw margin.
public struct Attributions: Sendable {
    public let rowCount: Int
    public let outputCount: Int
    /// What the attributions are indexed by: model features, or input columns once folded.
    public let names: [String]
    /// The expected margin per output, the starting point the attributions move away from.
    public var base: [Double]
    /// `values[(row * outputCount + k) * names.count + f]`.
    public var values: [Double]

    public init(rowCount: Int, outputCount: Int, names: [String], base: [Double], values: [Double]) {
        self.rowCount = rowCount
        self.outputCount = outputCount
        self.names = names
        self.base = base
        self.values = values
    }

    public func value(row: Int, output: Int, feature: Int) -> Double {
        values[(row * outputCount + output) * names.count + feature]
    }

    /// The row's attributions for one output, by name index.
    public func row(_ row: Int, output: Int) -> ArraySlice<Double> {
        let start = (row * outputCount + output) * names.count
        return values[start..<(start + names.count)]
    }

    /// The margin the attributions add up to.
    public func margin(row: Int, output: Int) -> Double {
        base[output] + self.row(row, output: output).reduce(0, +)
    }

    /// Attributions summed per source: `sources[f]` names the group feature `f` belongs to (the input column
    /// a one-hot level, date part or text bucket came from). Groups keep the order of first appearance.
    public func folded(into sources: [String]) -> Attributions {
        precondition(sources.count == names.count, "one source per feature")
        var groups: [String] = []
        var index: [String: Int] = [:]
        let target = sources.map { source -> Int in
            if let i = index[source] { return i }
            index[source] = groups.count
            groups.append(source)
            return groups.count - 1
        }
        var folded = [Double](repeating: 0, count: rowCount * outputCount * groups.count)
        for block in 0..<(rowCount * outputCount) {
            for f in 0..<names.count { folded[block * groups.count + target[f]] += values[block * names.count + f] }
        }
        return Attributions(rowCount: rowCount, outputCount: outputCount, names: groups, base: base, values: folded)
    }

    /// Mean absolute attribution per name and output, the usual global importance.
    public func meanAbsolute(output: Int) -> [Double] {
        var totals = [Double](repeating: 0, count: names.count)
        for row in 0..<rowCount {
            for (f, v) in self.row(row, output: output).enumerated() { totals[f] += abs(v) }
        }
        return totals.map { $0 / Double(max(rowCount, 1)) }
    }

    /// Mean absolute attribution per name, summed over outputs (one output except for multiclass models).
    public func globalImportance() -> [Double] {
        var totals = [Double](repeating: 0, count: names.count)
        for k in 0..<outputCount { for (f, v) in meanAbsolute(output: k).enumerated() { totals[f] += v } }
        return totals
    }
}

extension ColumnAttribution {
    /// The columns of `attributions`, most important first.
    public static func ranking(_ attributions: Attributions) -> [ColumnAttribution] {
        let importance = attributions.globalImportance()
        return importance.indices.sorted { importance[$0] > importance[$1] }
            .map { ColumnAttribution(column: attributions.names[$0], meanAbsolute: importance[$0]) }
    }
}
