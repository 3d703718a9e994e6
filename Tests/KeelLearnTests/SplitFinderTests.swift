@testable import KeelLearn
import KeelData
import Testing

@Suite struct SplitFinderTests {
    /// Every threshold and missing direction, scored the slow way.
    private func bruteForce(_ h: [Double], valueBins: Int, finder: SplitFinder) -> Double {
        let s = Histogram.stride
        let total = (0..<(valueBins + 1)).reduce(into: (0.0, 0.0)) { $0.0 += h[$1 * s]; $0.1 += h[$1 * s + 1] }
        let parent = finder.score(total.0, total.1)
        let rows = { (hessian: Double) in (hessian * 4).rounded() }
        var best = 0.0
        for threshold in 0..<(valueBins - 1) {
            for missingLeft in [false, true] {
                var left = (0.0, 0.0)
                for bin in 0...threshold { left.0 += h[bin * s]; left.1 += h[bin * s + 1] }
                if missingLeft { left.0 += h[valueBins * s]; left.1 += h[valueBins * s + 1] }
                let right = (total.0 - left.0, total.1 - left.1)
                guard rows(left.1) >= Double(finder.parameters.minChildRows), rows(right.1) >= Double(finder.parameters.minChildRows) else { continue }
                best = max(best, finder.score(left.0, left.1) + finder.score(right.0, right.1) - parent)
            }
        }
        return best
    }

    @Test func numericSplitIsTheBruteForceBest() {
        var g = SeededGenerator(seed: 11)
        var parameters = SplitFinder.Parameters()
        parameters.minChildRows = 5
        parameters.lambdaL1 = 0.5
        parameters.lambdaL2 = 1
        let finder = SplitFinder(parameters: parameters)
        for _ in 0..<50 {
            let valueBins = 2 + g.next(below: 30)
            // Hessians of 0.25 a row, so counts are hessian × 4 exactly.
            var h = [Double](repeating: 0, count: (valueBins + 1) * Histogram.stride)
            var count = 0.0
            for bin in 0...valueBins {
                let rows = Double(g.next(below: 20))
                count += rows
                h[bin * 2 + 1] = rows * 0.25
                h[bin * 2] = (g.nextUnit() - 0.4) * rows
            }
            let totals = SplitFinder.Totals(gradient: stride(from: 0, to: h.count, by: 2).reduce(0) { $0 + h[$1] },
                                            hessian: stride(from: 1, to: h.count, by: 2).reduce(0) { $0 + h[$1] }, count: count)
            let mapper = BinMapper(kind: .numeric(upperBounds: (0..<valueBins).map { Double($0) }))
            let found = h.withUnsafeBufferPointer { finder.best(feature: 0, histogram: $0.baseAddress!, mapper: mapper, totals: totals) }
            let expected = bruteForce(h, valueBins: valueBins, finder: finder)
            #expect(abs((found?.gain ?? 0) - expected) < 1e-9)
        }
    }
}
