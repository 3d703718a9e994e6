import Foundation

/// A test statistic with its p-value.
public struct TestResult: Codable, Sendable, Equatable {
    public var statistic: Double
    public var pValue: Double
    /// Degrees of freedom (chi-square only).
    public var degreesOfFreedom: Int?
}

/// The classical two-sample tests and distances drift detection is built on. Each matches its scipy
/// counterpart (checked in the tests): `ks_2samp` (exact method), `chi2_contingency(correction=False)`,
/// `wasserstein_distance` and `spatial.distance.jensenshannon`.
public enum TwoSampleTests {
    // MARK: Kolmogorov–Smirnov

    /// The two-sided two-sample KS test with the exact p-value (the probability that a random split of the
    /// pooled sample gives a statistic at least as large), which is what scipy's default does for samples of
    /// up to 10,000. Larger samples should be subsampled first; the monitor does.
    public static func kolmogorovSmirnov(_ a: [Double], _ b: [Double]) -> TestResult {
        let x = a.filter { !$0.isNaN }.sorted(), y = b.filter { !$0.isNaN }.sorted()
        guard !x.isEmpty, !y.isEmpty else { return TestResult(statistic: 0, pValue: 1) }
        let d = supremumDistance(x, y)
        return TestResult(statistic: d, pValue: exactTwoSidedPValue(n1: x.count, n2: y.count, d: d))
    }

    /// max |F_x(t) − F_y(t)| over all t, with right-continuous empirical distribution functions.
    static func supremumDistance(_ x: [Double], _ y: [Double]) -> Double {
        var i = 0, j = 0, d = 0.0
        let n1 = Double(x.count), n2 = Double(y.count)
        while i < x.count || j < y.count {
            // Step past every copy of the next smallest value in both samples before comparing.
            let t = j >= y.count || (i < x.count && x[i] <= y[j]) ? x[i] : y[j]
            while i < x.count && x[i] == t { i += 1 }
            while j < y.count && y[j] == t { j += 1 }
            d = max(d, abs(Double(i) / n1 - Double(j) / n2))
        }
        return d
    }

    /// P(D ≥ d) under the null, by counting lattice paths from (0, 0) to (n1, n2) that leave the band
    /// |i/n1 − j/n2| < d (Hodges 1958), in the numerically stable form of Viehmann (2021), which tracks
    /// the probability of having left the band instead of path counts.
    static func exactTwoSidedPValue(n1: Int, n2: Int, d: Double) -> Double {
        let g = gcd(n1, n2)
        let lcm = (n1 / g) * n2
        let h = Int((d * Double(lcm)).rounded(.toNearestOrEven))
        guard h > 0 else { return 1 }
        if n1 == n2 { return equalSizesPValue(n: n1, h: h) }
        let (m, n) = n1 >= n2 ? (n1, n2) : (n2, n1)
        let mg = m / g, ng = n / g
        // Column i of the lattice, restricted to the rows j inside the band; each cell holds the probability
        // that a path to (i, j) has already left the band (1 outside it).
        var low = 0
        var high = min(Int((Double(h) / Double(mg)).rounded(.up)), n + 1)
        var column = [Double](repeating: 1, count: min(2 * high + 2, n + 1) + 1)
        for j in low..<high { column[j] = 0 }
        var previousLength = high - low
        for i in 1...m {
            let previousLow = low
            low = min(max(Int((Double(ng * i - h) / Double(mg)).rounded(.down)) + 1, 0), n)
            high = min(Int((Double(ng * i + h) / Double(mg)).rounded(.up)), n + 1)
            if high <= low { return 1 }
            var below = low == 0 ? 0.0 : 1.0
            for offset in 0..<(high - low) {
                let j = low + offset
                below = (column[j - previousLow] * Double(i) + below * Double(j)) / Double(i + j)
                column[offset] = below
            }
            let length = high - low
            if previousLength > length {
                for k in length..<previousLength { column[k] = 1 }
            }
            previousLength = length
        }
        return column[high - low - 1]
    }

    /// Equal sample sizes: the alternating binomial sum 2·Σ (−1)^(k−1) C(2n, n−kh) / C(2n, n), evaluated
    /// innermost term first so no large binomial is ever formed.
    static func equalSizesPValue(n: Int, h: Int) -> Double {
        var total = 0.0
        var k = n / h
        while k >= 0 {
            var ratio = 1.0
            for j in 0..<h { ratio = Double(n - k * h - j) * ratio / Double(n + k * h + j + 1) }
            total = ratio * (1 - total)
            k -= 1
        }
        return 2 * total
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    // MARK: Chi-square

    /// Pearson's chi-square test of independence on a 2×k table (reference counts, current counts), without
    /// continuity correction; categories empty in both rows are dropped.
    public static func chiSquare(_ reference: [Int], _ current: [Int]) -> TestResult {
        precondition(reference.count == current.count)
        let pairs = zip(reference, current).filter { $0 + $1 > 0 }
        let r = Double(pairs.reduce(0) { $0 + $1.0 }), c = Double(pairs.reduce(0) { $0 + $1.1 })
        guard pairs.count > 1, r > 0, c > 0 else { return TestResult(statistic: 0, pValue: 1, degreesOfFreedom: 0) }
        let total = r + c
        var statistic = 0.0
        for (a, b) in pairs {
            let column = Double(a + b)
            for (observed, rowTotal) in [(Double(a), r), (Double(b), c)] {
                let expected = rowTotal * column / total
                statistic += (observed - expected) * (observed - expected) / expected
            }
        }
        let dof = pairs.count - 1
        return TestResult(statistic: statistic, pValue: SpecialFunctions.upperRegularizedGamma(Double(dof) / 2, statistic / 2), degreesOfFreedom: dof)
    }

    // MARK: Distances

    /// The first Wasserstein (earth mover's) distance between two samples: ∫ |F_a(t) − F_b(t)| dt.
    public static func wasserstein(_ a: [Double], _ b: [Double]) -> Double {
        let x = a.filter { !$0.isNaN }.sorted(), y = b.filter { !$0.isNaN }.sorted()
        guard !x.isEmpty, !y.isEmpty else { return 0 }
        var i = 0, j = 0, distance = 0.0
        var previous = min(x[0], y[0])
        while i < x.count || j < y.count {
            let t = j >= y.count || (i < x.count && x[i] <= y[j]) ? x[i] : y[j]
            distance += abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)) * (t - previous)
            previous = t
            while i < x.count && x[i] == t { i += 1 }
            while j < y.count && y[j] == t { j += 1 }
        }
        return distance
    }

    /// The Jensen–Shannon distance (natural logarithm) between two histograms over the same bins, each
    /// normalised to sum to one: the square root of the mean Kullback–Leibler divergence to their midpoint.
    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        precondition(p.count == q.count)
        let sp = p.reduce(0, +), sq = q.reduce(0, +)
        guard sp > 0, sq > 0 else { return 0 }
        var divergence = 0.0
        for (a, b) in zip(p, q) {
            let pa = a / sp, qb = b / sq, m = (pa + qb) / 2
            if pa > 0 { divergence += pa * Foundation.log(pa / m) }
            if qb > 0 { divergence += qb * Foundation.log(qb / m) }
        }
        return (max(divergence, 0) / 2).squareRoot()
    }

    /// The population stability index Σ (c − r)·ln(c / r) over bins, proportions floored at `epsilon` so
    /// that an empty bin counts as rare, not as infinitely surprising.
    public static func populationStability(_ reference: [Int], _ current: [Int], epsilon: Double = 1e-4) -> Double {
        precondition(reference.count == current.count)
        let r = Double(reference.reduce(0, +)), c = Double(current.reduce(0, +))
        guard r > 0, c > 0 else { return 0 }
        var psi = 0.0
        for (a, b) in zip(reference, current) {
            let pr = max(Double(a) / r, epsilon), pc = max(Double(b) / c, epsilon)
            psi += (pc - pr) * Foundation.log(pc / pr)
        }
        return psi
    }

    // MARK: Multiple testing

    /// Benjamini–Hochberg adjusted p-values (false discovery rate), in the input order.
    public static func benjaminiHochberg(_ pValues: [Double]) -> [Double] {
        let n = pValues.count
        guard n > 0 else { return [] }
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = [Double](repeating: 1, count: n)
        var running = 1.0
        for rank in stride(from: n - 1, through: 0, by: -1) {
            let index = order[rank]
            running = min(running, pValues[index] * Double(n) / Double(rank + 1))
            adjusted[index] = min(running, 1)
        }
        return adjusted
    }
}

/// The few special functions the tests need.
public enum SpecialFunctions {
    /// Q(a, x) = Γ(a, x) / Γ(a), the chi-square survival function's core: the series for x < a + 1, the
    /// continued fraction (modified Lentz) otherwise; both to about 1e-15 relative.
    public static func upperRegularizedGamma(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 1 }
        guard a > 0 else { return 0 }
        let logPrefix = a * Foundation.log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = term, denominator = a
            for _ in 0..<10_000 {
                denominator += 1
                term *= x / denominator
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * Foundation.exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return min(1, Foundation.exp(logPrefix) * h)
    }
}
