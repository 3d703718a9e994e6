/// Gradient histograms: per feature and bin, the sums of gradients, hessians and rows of one leaf.
///
/// Layout: three `HistogramSum`s per bin (gradient, hessian, count), features end to end at
/// `BinnedMatrix.histogramOffsets`. A leaf's gradients are first gathered into row order, so the inner loop
/// reads them contiguously and only the bin byte is a scattered load.
enum Histogram {
    static let stride = 3

    /// Builds the histogram of `rows` for the features in `features`, in parallel over feature chunks.
    static func build(
        binned: BinnedMatrix, rows: UnsafeBufferPointer<Int32>,
        gradients: UnsafePointer<GradientValue>, hessians: UnsafePointer<GradientValue>,
        features: [Int], scratch: inout [GradientValue], into histogram: UnsafeMutablePointer<HistogramSum>
    ) {
        let count = rows.count
        if scratch.count < 2 * count { scratch = [GradientValue](repeating: 0, count: 2 * count) }
        scratch.withUnsafeMutableBufferPointer { ordered in
            for i in 0..<count {
                let row = Int(rows[i])
                ordered[i] = gradients[row]
                ordered[count + i] = hessians[row]
            }
            let orderedG = UnsafePointer(ordered.baseAddress!)
            let orderedH = orderedG + count
            binned.bins.withUnsafeBufferPointer { allBins in
                let chunks = Parallel.chunks(features.count, minimum: count < 4096 ? features.count : 2)
                let out = SharedBuffer(base: histogram)
                Parallel.forEach(chunks.count) { chunk in
                    for f in chunks[chunk] {
                        let feature = features[f]
                        let offset = binned.histogramOffsets[feature]
                        let binCount = binned.histogramOffsets[feature + 1] - offset
                        let target = out.base + offset * stride
                        target.initialize(repeating: 0, count: binCount * stride)
                        accumulate(column: allBins.baseAddress! + feature * binned.rowCount, rows: rows,
                                   orderedG: orderedG, orderedH: orderedH, into: target)
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func accumulate(
        column: UnsafePointer<Bin>, rows: UnsafeBufferPointer<Int32>,
        orderedG: UnsafePointer<GradientValue>, orderedH: UnsafePointer<GradientValue>, into target: UnsafeMutablePointer<HistogramSum>
    ) {
        for i in 0..<rows.count {
            let slot = Int(column[Int(rows[i])]) &* stride
            target[slot] += HistogramSum(orderedG[i])
            target[slot &+ 1] += HistogramSum(orderedH[i])
            target[slot &+ 2] += 1
        }
    }

    /// The naive twin of `build`, for tests: one feature, no gathering, no pointers.
    static func naive(column: [Bin], rows: [Int32], gradients: [GradientValue], hessians: [GradientValue], bins: Int) -> [HistogramSum] {
        var histogram = [HistogramSum](repeating: 0, count: bins * stride)
        for row in rows.map(Int.init) {
            let bin = Int(column[row])
            histogram[bin * stride] += HistogramSum(gradients[row])
            histogram[bin * stride + 1] += HistogramSum(hessians[row])
            histogram[bin * stride + 2] += 1
        }
        return histogram
    }

    /// `larger = parent − smaller`, in place in the parent's buffer: the sibling's histogram for free.
    static func subtract(_ smaller: UnsafePointer<HistogramSum>, from parent: UnsafeMutablePointer<HistogramSum>, count: Int) {
        for i in 0..<count { parent[i] -= smaller[i] }
    }
}
