/// Gradient histograms: per feature and bin, the sums of gradients, hessians and rows of one leaf.
///
/// Layout: three `HistogramSum`s per bin (gradient, hessian, count), features end to end at
/// `BinnedMatrix.histogramOffsets`. Built row-wise: each leaf row's bins are one contiguous run in the
/// row-major bin matrix, so a scattered leaf costs one cache line per row rather than one per feature.
/// Large leaves are split into row chunks with private histograms, summed in chunk order. The chunking
/// depends only on the row count, never on the number of cores, so sums, splits and models are the same
/// on every machine.
enum Histogram {
    static let stride = 3
    private static let rowsPerChunk = 4096
    private static let maximumChunks = 8

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
            accumulate(binned: binned, rows: rows, gradients: gradients, hessians: hessians, features: features, into: histogram)
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
        binned.bins.withUnsafeBufferPointer { bins in
            binned.histogramOffsets.withUnsafeBufferPointer { offsets in
                if features.count == width {
                    for i in 0..<rows.count {
                        let row = Int(rows[i])
                        let g = HistogramSum(gradients[row])
                        let h = HistogramSum(hessians[row])
                        let rowBins = bins.baseAddress! + row &* width
                        for f in 0..<width {
                            let slot = (offsets[f] &+ Int(rowBins[f])) &* stride
                            target[slot] += g
                            target[slot &+ 1] += h
                            target[slot &+ 2] += 1
                        }
                    }
                } else {
                    features.withUnsafeBufferPointer { used in
                        for i in 0..<rows.count {
                            let row = Int(rows[i])
                            let g = HistogramSum(gradients[row])
                            let h = HistogramSum(hessians[row])
                            let rowBins = bins.baseAddress! + row &* width
                            for f in used {
                                let slot = (offsets[f] &+ Int(rowBins[f])) &* stride
                                target[slot] += g
                                target[slot &+ 1] += h
                                target[slot &+ 2] += 1
                            }
                        }
                    }
                }
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
                histogram[slot + 2] += 1
            }
        }
        return histogram
    }

    /// `larger = parent − smaller`, in place in the parent's buffer: the sibling's histogram for free.
    static func subtract(_ smaller: UnsafePointer<HistogramSum>, from parent: UnsafeMutablePointer<HistogramSum>, count: Int) {
        for i in 0..<count { parent[i] -= smaller[i] }
    }
}
