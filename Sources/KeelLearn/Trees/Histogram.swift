internal import CKeelIntrinsics

/// Gradient histograms: per feature and bin, the sums of gradients and hessians of one leaf's rows.
///
/// Layout: two `HistogramSum`s per bin (gradient, hessian), features end to end at
/// `BinnedMatrix.histogramOffsets`. Row counts are not summed: a side's count is its hessian times the leaf's
/// rows per unit of hessian (LightGBM's `cnt_factor`), exact whenever hessians are constant (squared error,
/// absolute error, Huber) and close otherwise; leaving the count out makes each update one 16-byte add. Built row-wise: each leaf row's bins are one contiguous run in the
/// row-major bin matrix, so a scattered leaf costs one cache line per row rather than one per feature.
/// Large leaves are split into row chunks with private histograms, summed in chunk order. The chunking
/// depends only on the row count, never on the number of cores, so sums, splits and models are the same
/// on every machine.
enum Histogram {
    static let stride = 2
    private static let rowsPerChunk = 4096
    private static let maximumChunks = 8
    /// How many rows ahead to prefetch a leaf row's bins: enough to hide a memory access behind the
    /// work of the rows in between.
    private static let prefetchDistance = 16

    /// Builds the histogram of `rows` over `features` (all features' ranges are written; unused ones are zero).
    static func build(
        binned: BinnedMatrix, rows: UnsafeBufferPointer<Int32>,
        gradients: UnsafePointer<GradientValue>, hessians: UnsafePointer<GradientValue>,
        features: [Int], scratch: inout [HistogramSum], into histogram: UnsafeMutablePointer<HistogramSum>
    ) {
        let total = binned.totalBins * stride
        let chunkCount = min(maximumChunks, max(1, rows.count / rowsPerChunk))
        histogram.initialize(repeating: 0, count: total)
        if chunkCount == 1 {
            // Too few rows to split: split the features instead (each sum is unchanged, so results are too).
            let featureChunks = rows.count * features.count >= 32_768 && features.count >= 8 ? Parallel.coreCount : 1
            let size = (features.count + featureChunks - 1) / featureChunks
            let out = SharedBuffer(base: histogram)
            Parallel.forEach(featureChunks) { c in
                let part = Array(features[min(c * size, features.count)..<min((c + 1) * size, features.count)])
                accumulate(binned: binned, rows: rows, gradients: gradients, hessians: hessians, features: part, into: out.base)
            }
            return
        }
        if scratch.count < (chunkCount - 1) * total { scratch = [HistogramSum](repeating: 0, count: (chunkCount - 1) * total) }
        let size = (rows.count + chunkCount - 1) / chunkCount
        scratch.withUnsafeMutableBufferPointer { partials in
            let partial = SharedBuffer(base: partials.baseAddress!)
            let first = SharedBuffer(base: histogram)
            Parallel.forEach(chunkCount) { c in
                let target = c == 0 ? first.base : partial.base + (c - 1) * total
                if c > 0 { target.initialize(repeating: 0, count: total) }
                let part = UnsafeBufferPointer(rebasing: rows[(c * size)..<min((c + 1) * size, rows.count)])
                accumulate(binned: binned, rows: part, gradients: gradients, hessians: hessians, features: features, into: target)
            }
            for c in 1..<chunkCount {
                let source = partials.baseAddress! + (c - 1) * total
                for i in 0..<total { histogram[i] += source[i] }
            }
        }
    }

    private static func accumulate(
        binned: BinnedMatrix, rows: UnsafeBufferPointer<Int32>, gradients: UnsafePointer<GradientValue>,
        hessians: UnsafePointer<GradientValue>, features: [Int], into target: UnsafeMutablePointer<HistogramSum>
    ) {
        let width = binned.featureCount
        // Each used feature's histogram start, so the inner loop adds one base pointer and one bin.
        let bases = UnsafeMutablePointer<UnsafeMutablePointer<HistogramSum>>.allocate(capacity: features.count)
        let columns = UnsafeMutablePointer<Int>.allocate(capacity: features.count)
        defer {
            bases.deallocate()
            columns.deallocate()
        }
        for (i, feature) in features.enumerated() {
            bases[i] = target + binned.histogramOffsets[feature] * stride
            columns[i] = feature
        }
        let used = features.count
        let ahead = prefetchDistance
        binned.bins.withUnsafeBufferPointer { bins in
            let matrix = bins.baseAddress!
            if used == width {
                for i in 0..<rows.count {
                    if i &+ ahead < rows.count {
                        let nextRow = Int(rows[i &+ ahead])
                        let next = matrix + nextRow &* width
                        keel_prefetch(next)
                        keel_prefetch(next + (width &- 1))
                        keel_prefetch(gradients + nextRow)
                        keel_prefetch(hessians + nextRow)
                    }
                    let row = Int(rows[i])
                    let g = HistogramSum(gradients[row])
                    let h = HistogramSum(hessians[row])
                    let rowBins = matrix + row &* width
                    for f in 0..<width {
                        let slot = bases[f] + Int(rowBins[f]) &* stride
                        slot[0] += g
                        slot[1] += h
                    }
                }
            } else {
                for i in 0..<rows.count {
                    if i &+ ahead < rows.count {
                        let nextRow = Int(rows[i &+ ahead])
                        let next = matrix + nextRow &* width
                        keel_prefetch(next)
                        keel_prefetch(next + (width &- 1))
                        keel_prefetch(gradients + nextRow)
                        keel_prefetch(hessians + nextRow)
                    }
                    let row = Int(rows[i])
                    let g = HistogramSum(gradients[row])
                    let h = HistogramSum(hessians[row])
                    let rowBins = matrix + row &* width
                    for f in 0..<used {
                        let slot = bases[f] + Int(rowBins[columns[f]]) &* stride
                        slot[0] += g
                        slot[1] += h
                    }
                }
            }
        }
    }

    /// One feature's histogram from its column-major bins, for a learner that boosts one feature at a time
    /// (the EBM): `outputs` sums per bin, gradients row-major (row i's output c at i × outputs + c), slot
    /// (bin × outputs + c) × `stride`. `histogram` holds exactly the feature's bins × outputs × `stride` sums.
    static func column(
        _ bins: UnsafePointer<Bin>, rows: UnsafeBufferPointer<Int32>, gradients: UnsafePointer<GradientValue>,
        hessians: UnsafePointer<GradientValue>, outputs: Int, into histogram: UnsafeMutableBufferPointer<HistogramSum>
    ) {
        let sums = histogram.baseAddress!
        sums.update(repeating: 0, count: histogram.count)
        if outputs == 1 {
            for i in 0..<rows.count {
                let row = Int(rows[i])
                let slot = sums + Int(bins[row]) &* stride
                slot[0] += HistogramSum(gradients[row])
                slot[1] += HistogramSum(hessians[row])
            }
            return
        }
        for i in 0..<rows.count {
            let row = Int(rows[i])
            let slot = sums + Int(bins[row]) &* outputs &* stride
            let source = row &* outputs
            for c in 0..<outputs {
                slot[c &* stride] += HistogramSum(gradients[source &+ c])
                slot[c &* stride &+ 1] += HistogramSum(hessians[source &+ c])
            }
        }
    }

    /// The naive twin of `build`, for tests: no chunks, no pointers, features one by one.
    static func naive(binned: BinnedMatrix, rows: [Int32], gradients: [GradientValue], hessians: [GradientValue], features: [Int]) -> [HistogramSum] {
        var histogram = [HistogramSum](repeating: 0, count: binned.totalBins * stride)
        for feature in features {
            for row in rows.map(Int.init) {
                let slot = (binned.histogramOffsets[feature] + Int(binned.bins[row * binned.featureCount + feature])) * stride
                histogram[slot] += HistogramSum(gradients[row])
                histogram[slot + 1] += HistogramSum(hessians[row])
            }
        }
        return histogram
    }

    /// `larger = parent − smaller`, in place in the parent's buffer: the sibling's histogram for free.
    static func subtract(_ smaller: UnsafePointer<HistogramSum>, from parent: UnsafeMutablePointer<HistogramSum>, count: Int) {
        for i in 0..<count { parent[i] -= smaller[i] }
    }
}
