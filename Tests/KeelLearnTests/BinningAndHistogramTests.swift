@testable import KeelLearn
import KeelData
import KeelTestSupport
import Testing

@Suite struct BinningAndHistogramTests {
    @Test func fewDistinctValuesGetOneBinEach() {
        let values: [Double] = [3, 1, 2, 2, .nan, 1, 3, 3]
        let mapper = values.withUnsafeBufferPointer { BinMapper.fit($0, kind: .numeric) }
        guard case .numeric(let bounds) = mapper.kind else { Issue.record("numeric expected"); return }
        #expect(bounds == [1.5, 2.5, .infinity])
        #expect(mapper.missingBin == 3)
        bounds.withUnsafeBufferPointer { b in
            #expect(BinMapper.numericBin(1, bounds: b, missingBin: 3) == 0)
            #expect(BinMapper.numericBin(2.5, bounds: b, missingBin: 3) == 1)
            #expect(BinMapper.numericBin(99, bounds: b, missingBin: 3) == 2)
            #expect(BinMapper.numericBin(.nan, bounds: b, missingBin: 3) == 3)
        }
    }

    @Test func manyValuesRespectTheBinLimitAndOrder() {
        var g = SeededGenerator(seed: 5)
        let values = (0..<20_000).map { _ in g.nextUnit() * g.nextUnit() * 100 }
        for maxBins in [2, 16, 255] {
            let mapper = values.withUnsafeBufferPointer { BinMapper.fit($0, kind: .numeric, maxBins: maxBins) }
            guard case .numeric(let bounds) = mapper.kind else { Issue.record("maxBins \(maxBins): a numeric mapper expected, got \(mapper.kind)"); continue }
            #expect(bounds.count <= maxBins && bounds.count >= maxBins / 2)
            #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 })
            // Bins hold roughly equal shares.
            var counts = [Int](repeating: 0, count: bounds.count)
            bounds.withUnsafeBufferPointer { b in for v in values { counts[Int(BinMapper.numericBin(v, bounds: b, missingBin: bounds.count))] += 1 } }
            #expect(counts.max()! <= 3 * values.count / bounds.count)
        }
    }

    @Test func categoriesAreRankedByFrequencyAndRareOnesShareTheLastBin() {
        let values: [Double] = [2, 2, 2, 0, 0, 5, .nan]
        let mapper = values.withUnsafeBufferPointer { BinMapper.fit($0, kind: .categorical, maxBins: 2) }
        #expect(mapper.kind == .categorical(codes: [2, 0]))
        let table = mapper.codeToBin(levelCount: 6)
        #expect(table[2] == 0 && table[0] == 1 && table[5] == Bin(mapper.missingBin))
    }

    @Test(arguments: [100, 5000, 40_000])
    func histogramMatchesNaiveTwin(rows: Int) {
        let table = SyntheticTable(rows: rows, seed: 9)
        let binned = BinnedMatrix(table.features, maxBins: 31)
        var g = SeededGenerator(seed: 3)
        let gradients = (0..<rows).map { _ in GradientValue(g.nextUnit() - 0.5) }
        let hessians = (0..<rows).map { _ in GradientValue(g.nextUnit()) }
        let subset = (0..<rows).filter { $0 % 3 != 1 }.map(Int32.init)
        for features in [[0, 1, 2, 3], [1, 3]] {
            var fast = [HistogramSum](repeating: .nan, count: binned.totalBins * Histogram.stride)
            var scratch: [HistogramSum] = []
            subset.withUnsafeBufferPointer { r in
                gradients.withUnsafeBufferPointer { gp in
                    hessians.withUnsafeBufferPointer { hp in
                        fast.withUnsafeMutableBufferPointer {
                            Histogram.build(binned: binned, rows: r, gradients: gp.baseAddress!, hessians: hp.baseAddress!,
                                            features: features, scratch: &scratch, into: $0.baseAddress!)
                        }
                    }
                }
            }
            let naive = Histogram.naive(binned: binned, rows: subset, gradients: gradients, hessians: hessians, features: features)
            #expect(zip(fast, naive).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) })
        }
    }

    /// The one-feature histogram the EBM builds from column-major bins, with one or several outputs, sums
    /// what the row-major histogram sums for that feature (output by output).
    @Test(arguments: [1, 3])
    func columnHistogramMatchesTheRowHistogram(outputs: Int) {
        let rows = 3000
        let table = SyntheticTable(rows: rows, seed: 4)
        let binned = BinnedMatrix(table.features, maxBins: 31)
        var g = SeededGenerator(seed: 8)
        let gradients = (0..<(rows * outputs)).map { _ in GradientValue(g.nextUnit() - 0.5) }
        let hessians = (0..<(rows * outputs)).map { _ in GradientValue(g.nextUnit()) }
        let subset = (0..<rows).filter { $0 % 4 != 2 }.map(Int32.init)
        for feature in 0..<binned.featureCount {
            let binCount = binned.mappers[feature].totalBins
            var column = [HistogramSum](repeating: .nan, count: binCount * outputs * Histogram.stride)
            binned.columns.withUnsafeBufferPointer { bins in
                subset.withUnsafeBufferPointer { r in
                    gradients.withUnsafeBufferPointer { gp in
                        hessians.withUnsafeBufferPointer { hp in
                            column.withUnsafeMutableBufferPointer {
                                Histogram.column(bins.baseAddress! + feature * rows, rows: r, gradients: gp.baseAddress!,
                                                 hessians: hp.baseAddress!, outputs: outputs, into: $0)
                            }
                        }
                    }
                }
            }
            for c in 0..<outputs {
                let gc = (0..<rows).map { gradients[$0 * outputs + c] }
                let hc = (0..<rows).map { hessians[$0 * outputs + c] }
                let naive = Histogram.naive(binned: binned, rows: subset, gradients: gc, hessians: hc, features: [feature])
                let offset = binned.histogramOffsets[feature] * Histogram.stride
                for b in 0..<binCount {
                    let mine = column[(b * outputs + c) * Histogram.stride ..< (b * outputs + c + 1) * Histogram.stride]
                    let theirs = naive[offset + b * Histogram.stride ..< offset + (b + 1) * Histogram.stride]
                    #expect(zip(mine, theirs).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }, "feature \(feature) bin \(b) output \(c)")
                }
            }
        }
    }
}
