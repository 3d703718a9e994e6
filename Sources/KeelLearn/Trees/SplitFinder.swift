/// Finds the best split of a leaf from its histogram, for numeric and categorical features.
///
/// Gain follows the second-order objective with L1 and L2 penalties (Chen & Guestrin 2016; LightGBM's
/// `GetSplitGains`): a side with gradient sum G and hessian sum H scores T(G)² / (H + λ₂), T soft-thresholding
/// by λ₁. Numeric splits try missing values on each side. Categorical splits (LightGBM's method, after
/// Fisher 1958): with few levels, one level against the rest; otherwise levels sorted by G / (H + catSmooth)
/// and the best prefix from either end, at most `maxCategoriesPerSplit` levels, each side holding at least
/// `minRowsPerCategoryGroup` rows, with the extra L2 penalty `categoricalL2`.
struct SplitFinder {
    struct Parameters: Sendable {
        var lambdaL1 = 0.0
        var lambdaL2 = 0.0
        var minChildRows = 20
        var minChildHessian = 1e-3
        var minSplitGain = 0.0
        var categoricalSmoothing = 10.0
        var categoricalL2 = 10.0
        var maxCategoriesPerSplit = 32
        var minRowsPerCategoryGroup = 100
        var maxCategoriesForOneVsRest = 4
    }

    struct Totals {
        var gradient: Double
        var hessian: Double
        var count: Double
    }

    /// The range a leaf's output must stay in, set by monotonic splits above it.
    struct Bounds: Sendable {
        var lower = -Double.infinity
        var upper = Double.infinity

        var isOpen: Bool { lower == -.infinity && upper == .infinity }
        func clamp(_ value: Double) -> Double { min(max(value, lower), upper) }
    }

    struct Split {
        var feature: Int
        var gain: Double
        /// Leaf outputs of the two sides before the learning rate, within the leaf's bounds.
        var leftOutput = 0.0
        var rightOutput = 0.0
        /// Numeric: rows with bin `<= thresholdBin` go left.
        var thresholdBin: Int
        /// Categorical: bins that go left.
        var leftBins: [Int]?
        var defaultLeft: Bool
        var left: Totals
        var right: Totals
    }

    let parameters: Parameters

    func thresholdL1(_ g: Double) -> Double {
        let reduced = abs(g) - parameters.lambdaL1
        return reduced > 0 ? (g > 0 ? reduced : -reduced) : 0
    }

    func score(_ g: Double, _ h: Double, extraL2: Double = 0) -> Double {
        let t = thresholdL1(g)
        return t * t / (h + parameters.lambdaL2 + extraL2)
    }

    /// The output of a leaf with these sums, before the learning rate.
    func leafOutput(_ totals: Totals) -> Double {
        -thresholdL1(totals.gradient) / (totals.hessian + parameters.lambdaL2)
    }

    func admissible(_ side: Totals) -> Bool {
        side.count >= Double(parameters.minChildRows) && side.hessian >= parameters.minChildHessian
    }

    /// The best split of `feature` from its histogram slice, or nil when none is admissible and positive.
    /// `constraint` is +1 / −1 for a feature the output must rise / fall with (0: none); `bounds` are the
    /// leaf's output limits. Constrained leaves score splits by their clamped outputs (LightGBM's "basic"
    /// monotone method): a split whose clamped outputs run against the constraint is not admissible.
    func best(feature: Int, histogram h: UnsafePointer<HistogramSum>, mapper: BinMapper, totals: Totals,
              constraint: Int = 0, bounds: Bounds = Bounds()) -> Split? {
        var split: Split?
        switch mapper.kind {
        case .numeric:
            split = constraint == 0 && bounds.isOpen
                ? numeric(feature: feature, h, valueBins: mapper.valueBinCount, totals: totals)
                : numericConstrained(feature: feature, h, valueBins: mapper.valueBinCount, totals: totals, constraint: constraint, bounds: bounds)
        case .categorical:
            split = categorical(feature: feature, h, valueBins: mapper.valueBinCount, totals: totals, bounds: bounds)
        }
        if var found = split, bounds.isOpen, constraint == 0 {
            found.leftOutput = leafOutput(found.left)
            found.rightOutput = leafOutput(found.right)
            split = found
        }
        return split
    }

    /// −(2·T(G)·o + (H + λ₂)·o²): the loss reduction of output o; at the unconstrained optimum it is the score.
    func gain(_ g: Double, _ h: Double, output o: Double, extraL2: Double = 0) -> Double {
        -(2 * thresholdL1(g) * o + (h + parameters.lambdaL2 + extraL2) * o * o)
    }

    /// Every threshold and missing side, scored with clamped outputs; slower, used only under constraints.
    private func numericConstrained(feature: Int, _ h: UnsafePointer<HistogramSum>, valueBins: Int, totals: Totals,
                                    constraint: Int, bounds: Bounds) -> Split? {
        let s = Histogram.stride
        let perHessian = rowsPerHessian(totals)
        let missing = Totals(gradient: h[valueBins * s], hessian: h[valueBins * s + 1], count: 0)
        let parentGain = gain(totals.gradient, totals.hessian, output: bounds.clamp(leafOutput(totals)))
        var best: Split?
        for pass in 0..<(missing.hessian > 0 ? 2 : 1) {
            var left = pass == 1 ? missing : Totals(gradient: 0, hessian: 0, count: 0)
            for bin in 0..<(valueBins - 1) {
                left.gradient += h[bin * s]
                left.hessian += h[bin * s + 1]
                if h[bin * s + 1] == 0 { continue }
                left.count = left.hessian * perHessian
                let right = Totals(gradient: totals.gradient - left.gradient, hessian: totals.hessian - left.hessian, count: totals.count - left.count)
                guard admissible(left), admissible(right) else { continue }
                let leftOutput = bounds.clamp(leafOutput(left))
                let rightOutput = bounds.clamp(leafOutput(right))
                if (constraint > 0 && leftOutput > rightOutput) || (constraint < 0 && leftOutput < rightOutput) { continue }
                let splitGain = gain(left.gradient, left.hessian, output: leftOutput) + gain(right.gradient, right.hessian, output: rightOutput) - parentGain
                if splitGain > parameters.minSplitGain, splitGain > (best?.gain ?? 0) {
                    let defaultLeft = missing.hessian > 0 ? pass == 1 : left.count >= right.count
                    best = Split(feature: feature, gain: splitGain, leftOutput: leftOutput, rightOutput: rightOutput, thresholdBin: bin,
                                 leftBins: nil, defaultLeft: defaultLeft, left: left, right: right)
                }
            }
        }
        return best
    }

    /// One random split of `feature` (extremely randomised trees, Geurts et al. 2006): a threshold drawn
    /// uniformly between the leaf's lowest and highest occupied bins, missing values on the larger side; for
    /// categories, one drawn level against the rest. nil when the leaf has one value or the split is not admissible.
    func random(feature: Int, histogram h: UnsafePointer<HistogramSum>, mapper: BinMapper, totals: Totals, draw: UInt64) -> Split? {
        let s = Histogram.stride
        let occupied = (0..<mapper.valueBinCount).filter { h[$0 * s + 1] > 0 }
        guard occupied.count >= 2 else { return nil }
        let perHessian = rowsPerHessian(totals)
        var left = Totals(gradient: 0, hessian: 0, count: 0)
        var leftBins: [Int]? = nil
        var thresholdBin = -1
        switch mapper.kind {
        case .numeric:
            thresholdBin = occupied.first! + Int(draw % UInt64(occupied.last! - occupied.first!))
            for bin in 0...thresholdBin { left.gradient += h[bin * s]; left.hessian += h[bin * s + 1] }
        case .categorical:
            let bin = occupied[Int(draw % UInt64(occupied.count))]
            leftBins = [bin]
            left.gradient = h[bin * s]
            left.hessian = h[bin * s + 1]
        }
        let missing = Totals(gradient: h[mapper.missingBin * s], hessian: h[mapper.missingBin * s + 1], count: 0)
        let present = totals.hessian - missing.hessian
        let missingLeft = leftBins == nil && missing.hessian > 0 && left.hessian * 2 >= present
        if missingLeft { left.gradient += missing.gradient; left.hessian += missing.hessian }
        left.count = (left.hessian * perHessian).rounded()
        let right = Totals(gradient: totals.gradient - left.gradient, hessian: totals.hessian - left.hessian, count: totals.count - left.count)
        guard admissible(left), admissible(right) else { return nil }
        let gain = score(left.gradient, left.hessian) + score(right.gradient, right.hessian) - score(totals.gradient, totals.hessian)
        guard gain > parameters.minSplitGain else { return nil }
        let defaultLeft = missing.hessian > 0 ? missingLeft : left.count >= right.count
        return Split(feature: feature, gain: gain, leftOutput: leafOutput(left), rightOutput: leafOutput(right), thresholdBin: thresholdBin,
                     leftBins: leftBins, defaultLeft: defaultLeft, left: left, right: right)
    }

    /// Rows per unit of hessian in a leaf, to turn a side's hessian into its (estimated) row count.
    func rowsPerHessian(_ totals: Totals) -> Double {
        totals.hessian > 0 ? totals.count / totals.hessian : 0
    }

    private func numeric(feature: Int, _ h: UnsafePointer<HistogramSum>, valueBins: Int, totals: Totals) -> Split? {
        let s = Histogram.stride
        let perHessian = rowsPerHessian(totals)
        let missingG = h[valueBins * s]
        let missingH = h[valueBins * s + 1]
        let parentScore = score(totals.gradient, totals.hessian)
        var best = Scan(gain: parameters.minSplitGain, bin: -1, leftG: 0, leftH: 0)
        scanThresholds(h, valueBins: valueBins, startG: 0, startH: 0, totals: totals, perHessian: perHessian, parentScore: parentScore, best: &best)
        var missingLeft = false
        if missingH > 0 {
            let (before, beforeGain) = (best.bin, best.gain)
            scanThresholds(h, valueBins: valueBins, startG: missingG, startH: missingH, totals: totals, perHessian: perHessian,
                           parentScore: parentScore, best: &best)
            missingLeft = best.bin != before || best.gain != beforeGain
        }
        guard best.bin >= 0 else { return nil }
        let leftRows = (best.leftH * perHessian).rounded()
        let left = Totals(gradient: best.leftG, hessian: best.leftH, count: leftRows)
        let right = Totals(gradient: totals.gradient - left.gradient, hessian: totals.hessian - left.hessian, count: totals.count - leftRows)
        let defaultLeft = missingH > 0 ? missingLeft : left.count >= right.count
        return Split(feature: feature, gain: best.gain, thresholdBin: best.bin, leftBins: nil, defaultLeft: defaultLeft, left: left, right: right)
    }

    private struct Scan {
        var gain: Double
        var bin: Int
        var leftG: Double
        var leftH: Double
    }

    /// One left-to-right pass over the thresholds with the left side starting at (`startG`, `startH`).
    @inline(__always)
    private func scanThresholds(_ h: UnsafePointer<HistogramSum>, valueBins: Int, startG: Double, startH: Double, totals: Totals,
                                perHessian: Double, parentScore: Double, best: inout Scan) {
        let minRows = Double(parameters.minChildRows)
        let minHessian = parameters.minChildHessian
        let l2 = parameters.lambdaL2
        let totalG = totals.gradient
        let totalH = totals.hessian
        let totalRows = totals.count
        let plainL2 = parameters.lambdaL1 == 0
        var bestGain = best.gain
        var bestBin = best.bin
        var bestG = best.leftG
        var bestH = best.leftH
        var leftG = startG
        var leftH = startH
        var bin = 0
        while bin < valueBins - 1 {
            let binH = h[bin &* 2 &+ 1]
            leftG += h[bin &* 2]
            leftH += binH
            bin &+= 1
            if binH == 0 { continue }
            if leftH * perHessian < minRows || leftH < minHessian { continue }
            let rightH = totalH - leftH
            if totalRows - leftH * perHessian < minRows || rightH < minHessian { break }
            let rightG = totalG - leftG
            let gain = plainL2
                ? leftG * leftG / (leftH + l2) + rightG * rightG / (rightH + l2) - parentScore
                : score(leftG, leftH) + score(rightG, rightH) - parentScore
            if gain > bestGain {
                bestGain = gain
                bestBin = bin &- 1
                bestG = leftG
                bestH = leftH
            }
        }
        best = Scan(gain: bestGain, bin: bestBin, leftG: bestG, leftH: bestH)
    }

    private func categorical(feature: Int, _ h: UnsafePointer<HistogramSum>, valueBins: Int, totals: Totals, bounds: Bounds) -> Split? {
        let s = Histogram.stride
        let perHessian = rowsPerHessian(totals)
        func rows(_ bin: Int) -> Double { (h[bin * s + 1] * perHessian).rounded() }
        let used = (0..<valueBins).filter { h[$0 * s + 1] > 0 }
        guard used.count >= 2 else { return nil }
        let parentScore = score(totals.gradient, totals.hessian)
        var best: Split?
        func consider(_ leftBins: [Int], extraL2: Double) {
            var left = Totals(gradient: 0, hessian: 0, count: 0)
            for bin in leftBins {
                left.gradient += h[bin * s]
                left.hessian += h[bin * s + 1]
            }
            left.count = (left.hessian * perHessian).rounded()
            let right = Totals(gradient: totals.gradient - left.gradient, hessian: totals.hessian - left.hessian, count: totals.count - left.count)
            guard admissible(left), admissible(right) else { return }
            let l2 = parameters.lambdaL2 + extraL2
            let leftOutput = bounds.clamp(-thresholdL1(left.gradient) / (left.hessian + l2))
            let rightOutput = bounds.clamp(-thresholdL1(right.gradient) / (right.hessian + l2))
            let parentGain = bounds.isOpen ? parentScore : gain(totals.gradient, totals.hessian, output: bounds.clamp(leafOutput(totals)))
            let splitGain = gain(left.gradient, left.hessian, output: leftOutput, extraL2: extraL2)
                + gain(right.gradient, right.hessian, output: rightOutput, extraL2: extraL2) - parentGain
            if splitGain > parameters.minSplitGain, splitGain > (best?.gain ?? 0) {
                best = Split(feature: feature, gain: splitGain, leftOutput: leftOutput, rightOutput: rightOutput, thresholdBin: -1,
                             leftBins: leftBins.sorted(), defaultLeft: false, left: left, right: right)
            }
        }
        if used.count <= parameters.maxCategoriesForOneVsRest {
            for bin in used { consider([bin], extraL2: 0) }
            return best
        }
        let smoothing = parameters.categoricalSmoothing
        let eligible = used.filter { rows($0) >= smoothing }
        let sorted = eligible.sorted { a, b in
            let ka = h[a * s] / (h[a * s + 1] + smoothing)
            let kb = h[b * s] / (h[b * s + 1] + smoothing)
            return ka != kb ? ka < kb : a < b
        }
        let limit = min(parameters.maxCategoriesPerSplit, (sorted.count + 1) / 2)
        for ordering in [sorted, sorted.reversed()] {
            var prefix: [Int] = []
            var inPrefix = 0.0
            for bin in ordering.prefix(limit) {
                prefix.append(bin)
                inPrefix += rows(bin)
                if inPrefix < Double(parameters.minRowsPerCategoryGroup) { continue }
                if totals.count - inPrefix < Double(parameters.minRowsPerCategoryGroup) { break }
                consider(prefix, extraL2: parameters.categoricalL2)
            }
        }
        return best
    }
}
