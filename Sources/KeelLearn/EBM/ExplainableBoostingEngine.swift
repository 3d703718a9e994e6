import KeelData

#if canImport(Glibc)
import Glibc
#endif

/// The training state an EBM's bags share (read-only), and the boosting steps themselves.
struct EBMContext: Sendable {
    let bins: EBMBins
    let kinds: [FeatureKind]
    let y: [Double]
    let weights: [Double]?
    let objective: Objective
    let outputs: Int
    let parameters: ExplainableBoostingParameters
    let deadline: ContinuousClock.Instant?

    private var n: Int { y.count }
    private var featureCount: Int { kinds.count }

    // MARK: Main terms

    /// Boosts every feature's shape function round-robin on one bag's training rows, stopping early on its
    /// validation rows; returns the shapes at the best round (per feature: bins × outputs, missing bin last).
    ///
    /// Margins and gradients are row-major (a row's outputs side by side), so a softmax reads its row in one
    /// place; each term's update and the gradients it changes are computed in one pass over the rows, each
    /// class's exponential once. On 19-class soybean this is most of an EBM's time.
    func boostMains(bag: Int, intercepts: [Double], stratify: Bool) -> [[Double]] {
        let labels: [UInt32]? = stratify ? y.map { UInt32($0) } : nil
        let seed = SeedStream(parameters.seed).seed("bag", index: bag)
        guard let split = try? Splits.holdout(rows: n, fraction: parameters.validationFraction, seed: seed, stratifyBy: labels) else {
            return bins.binCounts.map { [Double](repeating: 0, count: $0 * outputs) }
        }
        let k = outputs
        var shapes = bins.binCounts.map { [Double](repeating: 0, count: $0 * k) }
        var best = shapes
        var predictions = [Double](repeating: 0, count: n * k)
        for i in 0..<n { for c in 0..<k { predictions[i * k + c] = intercepts[c] } }
        let counts = (0..<featureCount).map { f in
            split.train.reduce(into: [Double](repeating: 0, count: bins.binCounts[f])) { $0[bins[f, $1]] += 1 }
        }
        var inTraining = [Bool](repeating: false, count: n)
        for i in split.train { inTraining[i] = true }
        let trainRows = split.train.map(Int32.init)
        var gradients = [GradientValue](repeating: 0, count: n * k)
        var hessians = [GradientValue](repeating: 0, count: n * k)
        var scratch = [Double](repeating: 0, count: k)
        for i in split.train { rowGradient(i, predictions, &gradients, &hessians, &scratch) }
        let widest = (bins.binCounts.max() ?? 0) * k
        var sums = [HistogramSum](repeating: 0, count: widest * Histogram.stride)
        var g = [Double](repeating: 0, count: widest)
        var h = [Double](repeating: 0, count: widest)
        var bestLoss = Double.infinity
        var bestRound = 0
        for round in 0..<parameters.maxRounds {
            if let deadline, ContinuousClock.now >= deadline { break }
            for f in 0..<featureCount {
                histogram(feature: f, rows: trainRows, gradients: gradients, hessians: hessians, sums: &sums, g: &g, h: &h)
                let change = step(feature: f, shape: &shapes[f], g: g, h: h, counts: counts[f])
                applyChange(change, feature: f, predictions: &predictions, inTraining: inTraining,
                            gradients: &gradients, hessians: &hessians, scratch: &scratch)
            }
            let loss = validationLoss(predictions, rows: split.validation)
            if loss < bestLoss - 1e-9 {
                (bestLoss, bestRound, best) = (loss, round, shapes)
            } else if round - bestRound >= parameters.earlyStoppingRounds {
                break
            }
        }
        return best
    }

    /// Sums the training rows' gradients and hessians per bin and output of feature `f` (bins × outputs) with
    /// the trees' histogram (`Float` gradients, `Double` sums), then lays them out as the step reads them.
    private func histogram(feature f: Int, rows: [Int32], gradients: [GradientValue], hessians: [GradientValue],
                           sums: inout [HistogramSum], g: inout [Double], h: inout [Double]) {
        let width = bins.binCounts[f] * outputs
        bins.values.withUnsafeBufferPointer { values in
            rows.withUnsafeBufferPointer { rows in
                gradients.withUnsafeBufferPointer { gr in
                    hessians.withUnsafeBufferPointer { he in
                        sums.withUnsafeMutableBufferPointer { out in
                            Histogram.column(values.baseAddress! + f * n, rows: rows, gradients: gr.baseAddress!, hessians: he.baseAddress!,
                                             outputs: outputs, into: UnsafeMutableBufferPointer(rebasing: out[0..<(width * Histogram.stride)]))
                        }
                    }
                }
            }
        }
        for j in 0..<width {
            g[j] = sums[j * Histogram.stride]
            h[j] = sums[j * Histogram.stride + 1]
        }
    }

    /// Adds a term's change to every row's margins and refreshes the training rows' gradients, in one pass.
    private func applyChange(_ change: [Double], feature f: Int, predictions: inout [Double], inTraining: [Bool],
                             gradients: inout [GradientValue], hessians: inout [GradientValue], scratch: inout [Double]) {
        let k = outputs
        bins.values.withUnsafeBufferPointer { values in
            let column = values.baseAddress! + f * n
            change.withUnsafeBufferPointer { change in
                predictions.withUnsafeMutableBufferPointer { p in
                    for i in 0..<n {
                        let base = Int(column[i]) &* k
                        let row = i &* k
                        for c in 0..<k { p[row &+ c] += change[base &+ c] }
                    }
                }
            }
        }
        for i in 0..<n where inTraining[i] { rowGradient(i, predictions, &gradients, &hessians, &scratch) }
    }

    /// One row's gradients and hessians from its margins (row-major), weighted; computed in `Double`, kept as
    /// `GradientValue`s like the trees' (they are only summed, into `Double`s).
    @inline(__always)
    private func rowGradient(_ i: Int, _ predictions: [Double], _ gradients: inout [GradientValue], _ hessians: inout [GradientValue], _ scratch: inout [Double]) {
        let w = weights?[i] ?? 1
        let k = outputs
        let row = i &* k
        switch objective {
        case .binary:
            let p = 1 / (1 + exp(-predictions[i]))
            gradients[i] = GradientValue((p - y[i]) * w)
            hessians[i] = GradientValue(max(p * (1 - p), 1e-16) * w)
        case .multiclass:
            var m = -Double.infinity
            for c in 0..<k { m = max(m, predictions[row + c]) }
            var sum = 0.0
            for c in 0..<k {
                scratch[c] = exp(predictions[row + c] - m)
                sum += scratch[c]
            }
            let label = Int(y[i])
            for c in 0..<k {
                let p = scratch[c] / sum
                gradients[row + c] = GradientValue((p - (label == c ? 1 : 0)) * w)
                hessians[row + c] = GradientValue(max(p * (1 - p), 1e-16) * w)
            }
        default:
            gradients[i] = GradientValue((predictions[i] - y[i]) * w)
            hessians[i] = GradientValue(w)
        }
    }

    /// One boosting step of feature `f` from its histogram (bins × outputs): fits the update per output,
    /// applies it to the shape (projected onto a monotone shape when constrained) and returns the change.
    private func step(feature f: Int, shape: inout [Double], g: [Double], h: [Double], counts: [Double]) -> [Double] {
        let binCount = bins.binCounts[f]
        var change = [Double](repeating: 0, count: binCount * outputs)
        for k in 0..<outputs {
            let gk = (0..<binCount).map { g[$0 * outputs + k] }
            let hk = (0..<binCount).map { h[$0 * outputs + k] }
            let update = kinds[f] == .numeric ? smallTree(gk, hk, counts) : perLevel(gk, hk, counts)
            var column = (0..<binCount).map { shape[$0 * outputs + k] }
            let before = column
            for b in 0..<binCount { column[b] += parameters.learningRate * update[b] }
            if let constraint = parameters.monotoneConstraints?[f], constraint != 0 {
                column = Isotonic.fit(column, weights: counts, increasing: constraint > 0, excludingLast: true)
            }
            for b in 0..<binCount {
                shape[b * outputs + k] = column[b]
                change[b * outputs + k] = column[b] - before[b]
            }
        }
        return change
    }

    /// Newton step per contiguous segment of at most `maxLeaves` (2 or 3) value-bin segments; missing bin alone.
    private func smallTree(_ g: [Double], _ h: [Double], _ counts: [Double]) -> [Double] {
        let valueBins = g.count - 1
        let l2 = parameters.l2
        let minRows = Double(parameters.minSamplesLeaf)
        func value(_ range: Range<Int>) -> Double {
            let (sg, sh) = range.reduce((0.0, 0.0)) { ($0.0 + g[$1], $0.1 + h[$1]) }
            return -sg / (sh + l2)
        }
        func bestCut(_ range: Range<Int>) -> (cut: Int, gain: Double)? {
            let total = range.reduce((0.0, 0.0, 0.0)) { ($0.0 + g[$1], $0.1 + h[$1], $0.2 + counts[$1]) }
            var left = (0.0, 0.0, 0.0)
            var best: (Int, Double)?
            for b in range.dropLast() {
                left = (left.0 + g[b], left.1 + h[b], left.2 + counts[b])
                let right = (total.0 - left.0, total.1 - left.1, total.2 - left.2)
                guard left.2 >= minRows, right.2 >= minRows else { continue }
                let gain = left.0 * left.0 / (left.1 + l2) + right.0 * right.0 / (right.1 + l2) - total.0 * total.0 / (total.1 + l2)
                if gain > (best?.1 ?? 0) { best = (b + 1, gain) }
            }
            return best
        }
        var segments: [Range<Int>] = [0..<valueBins]
        if let first = bestCut(0..<valueBins) {
            segments = [0..<first.cut, first.cut..<valueBins]
            if parameters.maxLeaves >= 3 {
                let candidates = segments.enumerated().compactMap { i, s in bestCut(s).map { (i, $0) } }
                if let (i, second) = candidates.max(by: { $0.1.gain < $1.1.gain }) {
                    let s = segments[i]
                    segments.replaceSubrange(i...i, with: [s.lowerBound..<second.cut, second.cut..<s.upperBound])
                }
            }
        }
        var update = [Double](repeating: 0, count: g.count)
        for segment in segments { let v = value(segment); for b in segment { update[b] = v } }
        update[valueBins] = counts[valueBins] >= minRows ? -g[valueBins] / (h[valueBins] + l2) : 0
        return update
    }

    /// Categories have no order: each level (with enough rows) takes its own regularised Newton step.
    private func perLevel(_ g: [Double], _ h: [Double], _ counts: [Double]) -> [Double] {
        g.indices.map { counts[$0] >= Double(parameters.minSamplesLeaf) ? -g[$0] / (h[$0] + parameters.l2) : 0 }
    }

    /// The loss on `rows` of row-major margins (output k of row i at i × outputs + k).
    private func validationLoss(_ predictions: [Double], rows: [Int]) -> Double {
        var scores = [Double](repeating: 0, count: rows.count * outputs)
        for k in 0..<outputs { for (j, i) in rows.enumerated() { scores[k * rows.count + j] = predictions[i * outputs + k] } }
        return objective.loss(scores: scores, y: rows.map { y[$0] }, rows: rows.count, classCount: outputs, huberDelta: 1)
    }

    // MARK: Pair terms

    /// Ranks every pair by FAST (the best four-quadrant cut of its residual gradient histogram, Lou et al.
    /// 2013) on up to 20,000 rows, then boosts the top pairs cyclically on coarse 2-D bins.
    func boostPairs(mains: [[Double]], intercepts: [Double]) -> [ExplainableBoostingModel.Term] {
        var predictions = [Double](repeating: intercepts[0], count: n)
        for f in 0..<featureCount { for i in 0..<n { predictions[i] += mains[f][bins[f, i]] } }
        let coarse = (0..<featureCount).map { coarseBins($0) }
        var gradients = [GradientValue](repeating: 0, count: n)
        var hessians = [GradientValue](repeating: 0, count: n)
        var scratch = [0.0]
        for i in 0..<n { rowGradient(i, predictions, &gradients, &hessians, &scratch) }
        var generator = SeedStream(parameters.seed).generator("pairs.sample")
        var sample = Array(0..<n)
        generator.shuffle(&sample)
        sample = Array(sample.prefix(20_000))
        var ranked: [(pair: (Int, Int), gain: Double)] = []
        for a in 0..<featureCount {
            for b in (a + 1)..<featureCount {
                ranked.append(((a, b), fastGain(a, b, coarse: coarse, rows: sample, gradients: gradients, hessians: hessians)))
            }
        }
        let chosen = ranked.sorted { $0.gain != $1.gain ? $0.gain > $1.gain : ($0.pair.0, $0.pair.1) < ($1.pair.0, $1.pair.1) }
            .prefix(parameters.interactions).filter { $0.gain > 0 }.map(\.pair)
        guard !chosen.isEmpty, let split = try? Splits.holdout(rows: n, fraction: parameters.validationFraction, seed: SeedStream(parameters.seed).seed("pairs.split"),
                                                              stratifyBy: objective == .binary ? y.map { UInt32($0) } : nil) else { return [] }
        var tables = chosen.map { [Double](repeating: 0, count: (coarse[$0.0].max()! + 1) * (coarse[$0.1].max()! + 1)) }
        var best = tables
        var bestLoss = validationLoss(predictions, rows: split.validation)
        var bestRound = 0
        for round in 0..<parameters.maxRounds {
            if let deadline, ContinuousClock.now >= deadline { break }
            for (t, (a, b)) in chosen.enumerated() {
                for i in split.train { rowGradient(i, predictions, &gradients, &hessians, &scratch) }
                let width = coarse[b].max()! + 1
                var g = [Double](repeating: 0, count: tables[t].count), h = g, c = g
                for i in split.train {
                    let cell = coarse[a][bins[a, i]] * width + coarse[b][bins[b, i]]
                    g[cell] += HistogramSum(gradients[i]); h[cell] += HistogramSum(hessians[i]); c[cell] += 1
                }
                let change = g.indices.map { c[$0] >= Double(parameters.minSamplesLeaf) ? -g[$0] / (h[$0] + parameters.l2) * parameters.learningRate : 0 }
                for cell in change.indices { tables[t][cell] += change[cell] }
                for i in 0..<n { predictions[i] += change[coarse[a][bins[a, i]] * width + coarse[b][bins[b, i]]] }
            }
            let loss = validationLoss(predictions, rows: split.validation)
            if loss < bestLoss - 1e-9 { (bestLoss, bestRound, best) = (loss, round, tables) }
            else if round - bestRound >= parameters.earlyStoppingRounds { break }
        }
        return chosen.enumerated().map { t, pair in
            ExplainableBoostingModel.Term(features: [pair.0, pair.1], scores: best[t], coarse: [coarse[pair.0], coarse[pair.1]], importance: 0)
        }
    }

    /// Fine bin → coarse bin: equal-frequency groups of value bins, missing in a group of its own.
    private func coarseBins(_ f: Int) -> [Int] {
        let binCount = bins.binCounts[f]
        let groups = parameters.interactionBins
        var counts = [Double](repeating: 0, count: binCount)
        for i in 0..<n { counts[bins[f, i]] += 1 }
        let present = counts.dropLast().reduce(0, +)
        var map = [Int](repeating: 0, count: binCount)
        var running = 0.0
        for b in 0..<(binCount - 1) {
            map[b] = min(groups - 1, Int(running / max(present, 1) * Double(groups)))
            running += counts[b]
        }
        map[binCount - 1] = (map.dropLast().max() ?? 0) + 1
        return map
    }

    private func fastGain(_ a: Int, _ b: Int, coarse: [[Int]], rows: [Int], gradients: [GradientValue], hessians: [GradientValue]) -> Double {
        let (wa, wb) = (coarse[a].max()! + 1, coarse[b].max()! + 1)
        var g = [Double](repeating: 0, count: wa * wb), h = g
        for i in rows {
            let cell = coarse[a][bins[a, i]] * wb + coarse[b][bins[b, i]]
            g[cell] += HistogramSum(gradients[i])
            h[cell] += HistogramSum(hessians[i])
        }
        // Prefix sums over (≤ ta, ≤ tb); cuts between value groups, missing groups on the high side.
        var pg = [Double](repeating: 0, count: (wa + 1) * (wb + 1)), ph = pg
        for i in 0..<wa { for j in 0..<wb {
            let (c, p) = (i * wb + j, (i + 1) * (wb + 1) + j + 1)
            pg[p] = g[c] + pg[p - 1] + pg[p - wb - 1] - pg[p - wb - 2]
            ph[p] = h[c] + ph[p - 1] + ph[p - wb - 1] - ph[p - wb - 2]
        } }
        func sum(_ s: [Double], _ i0: Int, _ i1: Int, _ j0: Int, _ j1: Int) -> Double {
            s[i1 * (wb + 1) + j1] - s[i0 * (wb + 1) + j1] - s[i1 * (wb + 1) + j0] + s[i0 * (wb + 1) + j0]
        }
        let l2 = parameters.l2
        let totalG = sum(pg, 0, wa, 0, wb), totalH = sum(ph, 0, wa, 0, wb)
        var best = 0.0
        for ta in 1..<wa { for tb in 1..<wb {
            var gain = -totalG * totalG / (totalH + l2)
            for (i0, i1) in [(0, ta), (ta, wa)] { for (j0, j1) in [(0, tb), (tb, wb)] {
                let (qg, qh) = (sum(pg, i0, i1, j0, j1), sum(ph, i0, i1, j0, j1))
                gain += qg * qg / (qh + l2)
            } }
            best = max(best, gain)
        } }
        return best
    }

    // MARK: Summaries

    /// Mean absolute contribution of a term over the training rows.
    func importance(of term: ExplainableBoostingModel.Term) -> Double {
        var total = 0.0
        if term.features.count == 1 {
            let f = term.features[0]
            for i in 0..<n { for k in 0..<outputs { total += abs(term.scores[bins[f, i] * outputs + k]) } }
        } else {
            let width = term.coarse[1].max()! + 1
            for i in 0..<n { total += abs(term.scores[term.coarse[0][bins[term.features[0], i]] * width + term.coarse[1][bins[term.features[1], i]]]) }
        }
        return total / Double(n * (term.features.count == 1 ? outputs : 1))
    }
}

/// Weighted isotonic regression by pool-adjacent-violators (the projection of a shape onto monotone ones).
enum Isotonic {
    /// The closest monotone sequence to `values` in weighted least squares; with `excludingLast` the last
    /// entry (the missing bin) is left as it is.
    static func fit(_ values: [Double], weights: [Double], increasing: Bool, excludingLast: Bool) -> [Double] {
        let count = excludingLast ? values.count - 1 : values.count
        guard count > 1 else { return values }
        let sign = increasing ? 1.0 : -1.0
        var blocks: [(value: Double, weight: Double, size: Int)] = []
        for i in 0..<count {
            blocks.append((sign * values[i], max(weights[i], 1e-12), 1))
            while blocks.count > 1, blocks[blocks.count - 2].value > blocks[blocks.count - 1].value {
                let last = blocks.removeLast()
                let previous = blocks.removeLast()
                let weight = previous.weight + last.weight
                blocks.append(((previous.value * previous.weight + last.value * last.weight) / weight, weight, previous.size + last.size))
            }
        }
        var result = values
        var i = 0
        for block in blocks { for _ in 0..<block.size { result[i] = sign * block.value; i += 1 } }
        return result
    }
}
