import KeelData
import KeelLearn

/// Partial dependence and ICE curves (Friedman 2001; Goldstein et al. 2015): the model's output as one
/// column is set to each grid value for every sampled row, all else unchanged. The output is the explained
/// class's probability for classifiers (the positive class for binary) and the value for regression.
public struct PartialDependence: Codable, Sendable {
    public var column: String
    public var numeric: Bool
    /// Grid values as written (numbers canonical, levels as they are).
    public var grid: [String]
    public var gridNumbers: [Double]?
    /// Mean output at each grid value.
    public var average: [Double]
    /// One curve per sampled row: `ice[row][g]`.
    public var ice: [[Double]]

    enum CodingKeys: String, CodingKey {
        case column, numeric, grid, average, ice
        case gridNumbers = "grid_numbers"
    }

    /// Curves for `column` over at most `gridSize` values (quantiles of a numeric column, the most frequent
    /// levels of a categorical one), on `frame`'s rows.
    public static func compute(_ model: TrainedModel, frame: Frame, column: String, gridSize: Int = 20,
                               outputClass: Int? = nil) throws -> PartialDependence? {
        guard let source = frame[column], let described = model.schema[column] else { return nil }
        let n = frame.rowCount
        let classes = model.schema.task?.classes ?? []
        let k = classes.count
        let target = outputClass ?? (model.schema.task?.kind == .binary ? 1 : 0)
        var grid: [String] = []
        var gridNumbers: [Double]?
        var columns: [Column] = []
        switch described.kind {
        case .numeric, .datetime:
            let values = try source.converted(to: described.kind)
            guard case .numeric(let v) = values.values.asNumbers else { return nil }
            let sorted = v.filter { !$0.isNaN }.sorted()
            guard !sorted.isEmpty else { return nil }
            var points: [Double] = []
            for g in 0..<gridSize {
                let q = sorted[min(sorted.count - 1, Int(Double(g) / Double(max(gridSize - 1, 1)) * Double(sorted.count - 1)))]
                if points.last != q { points.append(q) }
            }
            gridNumbers = points
            grid = described.kind == .datetime ? points.map(HTMLReport.date) : points.map(NumberFormatting.canonical)
            columns = points.map { Column(name: column, values: described.kind == .datetime ? .datetime(Array(repeating: $0, count: n)) : .numeric(Array(repeating: $0, count: n))) }
        case .text:
            // Setting every row to one document says nothing about the words that matter: no curve.
            return nil
        case .categorical, .boolean:
            let strings = try source.converted(to: .categorical)
            guard case .categorical(let s) = strings.values else { return nil }
            var counts = [Int](repeating: 0, count: s.levels.count)
            for code in s.codes where code != EncodedStrings.missing { counts[Int(code)] += 1 }
            // The most frequent levels are shown, in their natural order (numbers ascending, false before
            // true, otherwise alphabetical), so a chart reads left to right like the data's own scale.
            let top = counts.indices.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }.prefix(min(gridSize, 12)).filter { counts[$0] > 0 }
            grid = NaturalOrder.sorted(top.map { s.levels[$0] })
            columns = grid.map { level in
                let single = Column(name: column, values: .categorical(EncodedStrings(codes: Array(repeating: 0, count: n), levels: [level])))
                return (try? single.converted(to: described.kind)) ?? single
            }
        }
        var ice = [[Double]](repeating: [], count: n)
        var average: [Double] = []
        for replacement in columns {
            var changed = frame
            try changed.replace(replacement)
            let outputs = try model.predictor.outputs(changed)
            var total = 0.0
            for row in 0..<n {
                let value = k > 0 ? outputs[row * k + target] : outputs[row]
                ice[row].append(value)
                total += value
            }
            average.append(total / Double(max(n, 1)))
        }
        return PartialDependence(column: column, numeric: gridNumbers != nil, grid: grid, gridNumbers: gridNumbers, average: average, ice: ice)
    }
}

private extension ColumnValues {
    /// Datetime seconds are numbers too.
    var asNumbers: ColumnValues {
        if case .datetime(let v) = self { return .numeric(v) }
        return self
    }
}
