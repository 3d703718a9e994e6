import Foundation
import KeelData
import KeelMonitor
import KeelTestSupport
import Testing

/// The drift statistics equal scipy's on the same samples (the test venv installs scipy).
@Suite struct TwoSampleTestsTests {
    /// Samples of several shapes and sizes: equal sizes (the closed form), unequal (the lattice), ties,
    /// shifts from none to large, and sizes up to the monitor's 10,000 cap.
    static func samples() -> [(String, [Double], [Double])] {
        var generator = SeededGenerator(seed: 42)
        func normal(_ n: Int, mean: Double, sd: Double) -> [Double] {
            (0..<n).map { _ in
                let u = max(generator.nextUnit(), 1e-12), v = generator.nextUnit()
                return mean + sd * (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
            }
        }
        func rounded(_ values: [Double]) -> [Double] { values.map { ($0 * 2).rounded() / 2 } }
        return [
            ("same-40-40", normal(40, mean: 0, sd: 1), normal(40, mean: 0, sd: 1)),
            ("shift-40-40", normal(40, mean: 0, sd: 1), normal(40, mean: 0.8, sd: 1)),
            ("same-120-75", normal(120, mean: 0, sd: 1), normal(75, mean: 0, sd: 1)),
            ("shift-300-200", normal(300, mean: 0, sd: 1), normal(200, mean: 0.3, sd: 1.2)),
            ("ties-500-350", rounded(normal(500, mean: 0, sd: 1)), rounded(normal(350, mean: 0.1, sd: 1))),
            ("same-2000-1500", normal(2000, mean: 5, sd: 2), normal(1500, mean: 5, sd: 2)),
            ("small-shift-10000-7000", normal(10_000, mean: 0, sd: 1), normal(7000, mean: 0.05, sd: 1)),
        ]
    }

    @Test func kolmogorovSmirnovAndWassersteinEqualScipy() throws {
        let cases = Self.samples()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-ks-\(UUID().uuidString).json").path
        try JSONSerialization.data(withJSONObject: cases.map { ["a": $0.1, "b": $0.2] }).write(to: URL(fileURLWithPath: path))
        let output = try PythonEnvironment.run("""
        import json, sys
        from scipy import stats
        out = []
        for c in json.load(open(sys.argv[1])):
            r = stats.ks_2samp(c["a"], c["b"], method="exact")
            out.append([float(r.statistic), float(r.pvalue), float(stats.wasserstein_distance(c["a"], c["b"]))])
        print(json.dumps(out))
        """, arguments: [path])
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Double]])
        for ((name, a, b), expected) in zip(cases, theirs) {
            let mine = TwoSampleTests.kolmogorovSmirnov(a, b)
            #expect(abs(mine.statistic - expected[0]) < 1e-12, "\(name): D \(mine.statistic) vs \(expected[0])")
            #expect(abs(mine.pValue - expected[1]) < 1e-6, "\(name): p \(mine.pValue) vs \(expected[1])")
            let w = TwoSampleTests.wasserstein(a, b)
            #expect(abs(w - expected[2]) < 1e-9 * max(1, expected[2]), "\(name): W \(w) vs \(expected[2])")
        }
    }

    @Test func chiSquareAndJensenShannonEqualScipy() throws {
        let tables: [([Int], [Int])] = [
            ([50, 30, 20], [45, 35, 20]),
            ([500, 300, 200, 0], [300, 300, 300, 100]),
            ([10, 0, 5, 7, 3], [8, 2, 6, 0, 9]),
            ([4000, 3000, 2000, 1000], [4100, 2950, 1980, 970]),
            ([1, 1], [1000, 2]),
        ]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-chi-\(UUID().uuidString).json").path
        try JSONSerialization.data(withJSONObject: tables.map { [$0.0, $0.1] }).write(to: URL(fileURLWithPath: path))
        let output = try PythonEnvironment.run("""
        import json, sys
        import numpy as np
        from scipy import stats
        from scipy.spatial import distance
        out = []
        for r, c in json.load(open(sys.argv[1])):
            t = np.array([r, c])
            t = t[:, t.sum(axis=0) > 0]
            chi2, p, dof, _ = stats.chi2_contingency(t, correction=False)
            out.append([float(chi2), float(p), int(dof), float(distance.jensenshannon(r, c))])
        print(json.dumps(out))
        """, arguments: [path])
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Double]])
        for ((reference, current), expected) in zip(tables, theirs) {
            let mine = TwoSampleTests.chiSquare(reference, current)
            #expect(abs(mine.statistic - expected[0]) < 1e-9 * max(1, expected[0]), "\(reference) \(current): chi2 \(mine.statistic) vs \(expected[0])")
            #expect(abs(mine.pValue - expected[1]) < 1e-6, "\(reference) \(current): p \(mine.pValue) vs \(expected[1])")
            #expect(mine.degreesOfFreedom == Int(expected[2]))
            let js = TwoSampleTests.jensenShannon(reference.map(Double.init), current.map(Double.init))
            #expect(abs(js - expected[3]) < 1e-9, "JS \(js) vs \(expected[3])")
        }
    }

    @Test func populationStabilityMatchesItsDefinitionAndBenjaminiHochbergMatchesScipy() throws {
        // PSI by hand: Σ (c − r)·ln(c/r) with proportions floored at 1e-4.
        let reference = [100, 200, 300, 400, 0], current = [150, 150, 300, 350, 50]
        let r = reference.map { max(Double($0) / 1000, 1e-4) }, c = current.map { max(Double($0) / 1000, 1e-4) }
        let expected = zip(r, c).reduce(0.0) { $0 + ($1.1 - $1.0) * Foundation.log($1.1 / $1.0) }
        #expect(abs(TwoSampleTests.populationStability(reference, current) - expected) < 1e-15)
        #expect(TwoSampleTests.populationStability(reference, reference) == 0)
        let pValues = [0.01, 0.04, 0.03, 0.2, 0.0001, 0.5]
        let output = try PythonEnvironment.run("""
        import json, sys
        from scipy import stats
        print(json.dumps(stats.false_discovery_control(json.loads(sys.argv[1]), method="bh").tolist()))
        """, arguments: ["\(pValues)"])
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [Double])
        for (mine, expected) in zip(TwoSampleTests.benjaminiHochberg(pValues), theirs) { #expect(abs(mine - expected) < 1e-12) }
    }

    @Test func chiSquareSurvivalFunctionMatchesKnownValues() {
        // Q(k/2, x/2) is the chi-square survival function: P(χ²₁ ≥ 3.841459) = 0.05, P(χ²₁₀ ≥ 18.307) = 0.05.
        #expect(abs(SpecialFunctions.upperRegularizedGamma(0.5, 3.841458820694124 / 2) - 0.05) < 1e-12)
        #expect(abs(SpecialFunctions.upperRegularizedGamma(5, 18.307038053275146 / 2) - 0.05) < 1e-12)
        #expect(SpecialFunctions.upperRegularizedGamma(3, 0) == 1)
    }
}
