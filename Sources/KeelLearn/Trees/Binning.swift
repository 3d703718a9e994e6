import KeelData

/// Maps one feature's values to bins: quantile bins for numbers, frequency-ranked bins for categories.
/// The last bin (`missingBin`) holds missing values and, for categories, levels too rare to get their own.
public struct BinMapper: Codable, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Bin `i` holds values `<= upperBounds[i]` (and above the previous bound); the last bound is +∞.
        case numeric(upperBounds: [Double])
        /// Bin `i` holds level code `codes[i]`, most frequent first.
        case categorical(codes: [Int])
    }

    public let kind: Kind

    public init(kind: Kind) {
        self.kind = kind
    }

    private enum CodingKeys: String, CodingKey {
        case upperBounds = "upper_bounds"
        case codes
    }

    /// Numeric mappers are written without their last bound, always +∞, which JSON cannot represent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch kind {
        case .numeric(let bounds): try container.encode(Array(bounds.dropLast()), forKey: .upperBounds)
        case .categorical(let codes): try container.encode(codes, forKey: .codes)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let bounds = try container.decodeIfPresent([Double].self, forKey: .upperBounds) {
            kind = .numeric(upperBounds: bounds + [.infinity])
        } else {
            kind = .categorical(codes: try container.decode([Int].self, forKey: .codes))
        }
    }

    /// Number of value bins; `missingBin` comes right after them.
    public var valueBinCount: Int {
        switch kind {
        case .numeric(let bounds): bounds.count
        case .categorical(let codes): codes.count
        }
    }

    public var missingBin: Int { valueBinCount }
    public var totalBins: Int { valueBinCount + 1 }

    /// Bins from `values` (NaN = missing). Numeric bins follow a greedy quantile cut: each bin gets about
    /// an equal share of the rows still to place, values never straddle two bins, and a value frequent
    /// enough gets a bin of its own (as LightGBM's `GreedyFindBin`). Boundaries are midpoints between
    /// neighbouring distinct values.
    public static func fit(_ values: UnsafeBufferPointer<Double>, kind: FeatureKind, maxBins: Int = maximumValueBins,
                           minimumPerBin: Int = 3) -> BinMapper {
        switch kind {
        case .numeric: return BinMapper(kind: .numeric(upperBounds: numericBounds(values, maxBins: maxBins, minimumPerBin: minimumPerBin)))
        case .categorical: return BinMapper(kind: .categorical(codes: frequentCodes(values, maxBins: maxBins)))
        }
    }

    private static func numericBounds(_ values: UnsafeBufferPointer<Double>, maxBins: Int, minimumPerBin: Int) -> [Double] {
        var sorted = values.filter { !$0.isNaN }
        guard !sorted.isEmpty else { return [.infinity] }
        sorted.sort()
        var distinct: [Double] = []
        var counts: [Int] = []
        for value in sorted {
            if let last = distinct.last, last == value { counts[counts.count - 1] += 1 } else {
                distinct.append(value)
                counts.append(1)
            }
        }
        var bounds: [Double] = []
        if distinct.count <= maxBins {
            for i in 0..<(distinct.count - 1) { bounds.append(midpoint(distinct[i], distinct[i + 1])) }
        } else {
            var remaining = sorted.count
            var binsLeft = maxBins
            var inBin = 0
            for i in 0..<(distinct.count - 1) {
                inBin += counts[i]
                let target = max(Double(remaining) / Double(binsLeft), Double(minimumPerBin))
                // Cut now when this bin is full, or when the next value alone would overfill it.
                if Double(inBin) >= target || (inBin >= minimumPerBin && Double(inBin + counts[i + 1]) > target * 1.5) {
                    bounds.append(midpoint(distinct[i], distinct[i + 1]))
                    remaining -= inBin
                    binsLeft -= 1
                    inBin = 0
                    if binsLeft == 1 { break }
                }
            }
        }
        bounds.append(.infinity)
        return bounds
    }

    private static func midpoint(_ a: Double, _ b: Double) -> Double {
        let middle = a / 2 + b / 2
        return middle < b ? max(middle, a) : a
    }

    private static func frequentCodes(_ values: UnsafeBufferPointer<Double>, maxBins: Int) -> [Int] {
        var counts: [Int: Int] = [:]
        for value in values where !value.isNaN { counts[Int(value), default: 0] += 1 }
        let ranked = counts.keys.sorted { counts[$0]! != counts[$1]! ? counts[$0]! > counts[$1]! : $0 < $1 }
        return Array(ranked.prefix(maxBins))
    }

    /// A lookup from level code to bin, for categorical mappers (codes beyond the table are rare/unseen).
    func codeToBin(levelCount: Int) -> [Bin] {
        guard case .categorical(let codes) = kind else { return [] }
        var table = [Bin](repeating: Bin(missingBin), count: max(levelCount, (codes.max() ?? -1) + 1))
        for (bin, code) in codes.enumerated() { table[code] = Bin(bin) }
        return table
    }

    /// The bin of a numeric value: binary search for the first upper bound at or above it.
    @inline(__always)
    static func numericBin(_ value: Double, bounds: UnsafeBufferPointer<Double>, missingBin: Int) -> Bin {
        if value.isNaN { return Bin(missingBin) }
        var low = 0
        var high = bounds.count - 1
        while low < high {
            let middle = (low + high) >> 1
            if value <= bounds[middle] { high = middle } else { low = middle + 1 }
        }
        return Bin(low)
    }
}

/// Features binned for tree training: one byte per row and feature, row-major, so that all bins of a row
/// share a cache line when a leaf's rows are visited; plus each feature's offset into a histogram that
/// lays all features' bins end to end.
public struct BinnedMatrix: Sendable {
    public let rowCount: Int
    public let mappers: [BinMapper]
    /// Row-major: the bin of row `r`, feature `f` is `bins[r * featureCount + f]` (for histograms).
    public let bins: [Bin]
    /// The same bins column-major, `columns[f * rowCount + r]`: partitioning a leaf reads one feature of
    /// many rows, which row-major storage would turn into one cache line per row.
    public let columns: [Bin]
    /// `histogramOffsets[j]` is where feature `j`'s bins start; the last entry is the total bin count.
    public let histogramOffsets: [Int]
    /// The most value bins a feature was given.
    public let maxBins: Int

    /// Fits one mapper per feature on up to `sampleSize` seeded rows (features in parallel), then bins
    /// every row (row chunks in parallel).
    public init(_ matrix: FeatureMatrix, maxBins: Int = maximumValueBins, sampleSize: Int = 200_000, seed: UInt64 = 0) {
        let rows = matrix.rowCount
        let featureCount = matrix.featureCount
        var sample: [Int]? = nil
        if rows > sampleSize {
            var generator = SeededGenerator(seed: seed)
            var all = Array(0..<rows)
            generator.shuffle(&all)
            sample = Array(all.prefix(sampleSize)).sorted()
        }
        var mappers = [BinMapper?](repeating: nil, count: featureCount)
        var bins = [Bin](repeating: 0, count: rows * featureCount)
        matrix.values.withUnsafeBufferPointer { values in
            mappers.withUnsafeMutableBufferPointer { mapperSlots in
                let mapperOut = SharedBuffer(base: mapperSlots.baseAddress!)
                Parallel.forEach(featureCount) { j in
                    let column = UnsafeBufferPointer(rebasing: values[(j * rows)..<((j + 1) * rows)])
                    if let sample {
                        let picked = sample.map { column[$0] }
                        mapperOut[j] = picked.withUnsafeBufferPointer { BinMapper.fit($0, kind: matrix.kinds[j], maxBins: maxBins) }
                    } else {
                        mapperOut[j] = BinMapper.fit(column, kind: matrix.kinds[j], maxBins: maxBins)
                    }
                }
            }
            let fitted = mappers.map { $0! }
            let tables = fitted.map { $0.codeToBin(levelCount: 0) }
            bins.withUnsafeMutableBufferPointer { binSlots in
                let out = SharedBuffer(base: binSlots.baseAddress!)
                let chunks = Parallel.chunks(rows, minimum: 16_384)
                Parallel.forEach(chunks.count) { c in
                    for j in 0..<featureCount {
                        let column = UnsafeBufferPointer(rebasing: values[(j * rows)..<((j + 1) * rows)])
                        Self.fill(column, rows: chunks[c], mapper: fitted[j], table: tables[j], into: out.base + j, stride: featureCount)
                    }
                }
            }
        }
        var columns = [Bin](repeating: 0, count: rows * featureCount)
        bins.withUnsafeBufferPointer { rowMajor in
            columns.withUnsafeMutableBufferPointer { columnSlots in
                let out = SharedBuffer(base: columnSlots.baseAddress!)
                Parallel.forEach(featureCount) { j in
                    for r in 0..<rows { out[j * rows + r] = rowMajor[r * featureCount + j] }
                }
            }
        }
        self.rowCount = rows
        self.maxBins = maxBins
        self.mappers = mappers.map { $0! }
        self.bins = bins
        self.columns = columns
        var offsets = [0]
        for mapper in self.mappers { offsets.append(offsets.last! + mapper.totalBins) }
        histogramOffsets = offsets
    }

    private static func fill(_ column: UnsafeBufferPointer<Double>, rows: Range<Int>, mapper: BinMapper, table: [Bin],
                             into out: UnsafeMutablePointer<Bin>, stride: Int) {
        switch mapper.kind {
        case .numeric(let bounds):
            bounds.withUnsafeBufferPointer { bounds in
                for i in rows { out[i * stride] = BinMapper.numericBin(column[i], bounds: bounds, missingBin: mapper.missingBin) }
            }
        case .categorical:
            let missing = Bin(mapper.missingBin)
            for i in rows {
                let value = column[i]
                let code = value.isNaN ? -1 : Int(value)
                out[i * stride] = code >= 0 && code < table.count ? table[code] : missing
            }
        }
    }

    public var featureCount: Int { mappers.count }
    public var totalBins: Int { histogramOffsets.last! }

    /// `prebinned` when it bins `matrix`'s rows and features with `maxBins` (a fold binned once for every
    /// trial, as LightGBM's `Dataset` is constructed once), else `matrix` binned now.
    public static func reusing(_ prebinned: BinnedMatrix?, for matrix: FeatureMatrix, maxBins: Int, seed: UInt64) -> BinnedMatrix {
        if let prebinned, prebinned.maxBins == maxBins, prebinned.rowCount == matrix.rowCount, prebinned.featureCount == matrix.featureCount,
           zip(prebinned.mappers, matrix.kinds).allSatisfy({ mapper, kind in
               if case .categorical = mapper.kind { kind == .categorical } else { kind != .categorical }
           }) {
            return prebinned
        }
        return BinnedMatrix(matrix, maxBins: maxBins, seed: seed)
    }
}
