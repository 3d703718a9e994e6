#if canImport(Glibc)
import Glibc
#endif
import KeelData

/// Hyperparameters of penalised linear and logistic regression.
///
/// The objective is scikit-learn's `ElasticNet` one, on the standardised design:
/// (1/n) Σ loss + λ · (ρ‖β‖₁ + (1 − ρ)/2 ‖β‖²), with loss ½(y − η)² for regression and the log loss for
/// classification; intercepts are not penalised. scikit-learn's `Ridge(alpha)` is λ = alpha / n, ρ = 0, and
/// `LogisticRegression(C)` is λ = 1 / (C·n), ρ = 0.
public struct LinearParameters: Codable, Sendable, Equatable {
    public var lambda = 1e-4
    /// ρ: 0 is ridge, 1 is lasso, between is the elastic net.
    public var l1Ratio = 0.0
    public var maxIterations = 1000
    /// Convergence: the largest coefficient change (on the standardised scale) in a full pass.
    public var tolerance = 1e-8
    /// Per input feature: +1 forces its coefficients ≥ 0, −1 ≤ 0 (monotonic constraints), 0 leaves them free.
    public var signConstraints: [Int]?
    public var maxLevels = 32

    public init() {}

    public func validate() throws {
        guard lambda >= 0, lambda.isFinite else { throw LearnError.invalidParameter("lambda must be finite and not negative, not \(lambda)") }
        guard (0...1).contains(l1Ratio) else { throw LearnError.invalidParameter("the L1 ratio must be between 0 and 1, not \(l1Ratio)") }
        guard maxIterations >= 1 else { throw LearnError.invalidParameter("max iterations must be at least 1, not \(maxIterations)") }
        guard tolerance > 0 else { throw LearnError.invalidParameter("tolerance must be positive, not \(tolerance)") }
    }
}

/// A fitted linear model: raw scores η = b + Σ βⱼ xⱼ on the standardised design; log-odds for binary, one
/// score per class for multiclass (softmax), the value for regression.
public struct LinearModel: Codable, Sendable, Equatable {
    public let task: TaskKind
    public let design: LinearDesign
    /// Row k holds class k's coefficients (one row for binary and regression), on the standardised design.
    public let coefficients: [[Double]]
    public let intercepts: [Double]
    public let iterations: Int
    public let converged: Bool

    /// Coefficients per unit of the original feature (numeric terms) or per level (one-hot terms).
    public var unstandardisedCoefficients: [[Double]] {
        coefficients.map { row in zip(row, design.terms).map { $0 / $1.scale } }
    }

    public func rawScores(_ matrix: FeatureMatrix) throws -> [Double] {
        let x = try design.columns(matrix)
        let n = matrix.rowCount
        let outputs = coefficients.count
        var scores = [Double](repeating: 0, count: n * outputs)
        for k in 0..<outputs {
            for i in 0..<n { scores[i * outputs + k] = intercepts[k] }
            for (j, beta) in coefficients[k].enumerated() where beta != 0 {
                for i in 0..<n { scores[i * outputs + k] += beta * x[j * n + i] }
            }
        }
        return scores
    }

    public func predict(_ matrix: FeatureMatrix) throws -> [Double] {
        ScoreLink.apply(try rawScores(matrix), task: task, outputs: coefficients.count)
    }
}

/// Linear regression and (binary or multinomial) logistic regression with L1, L2 or elastic-net
/// penalties, fitted by cyclic coordinate descent (Friedman, Hastie & Tibshirani 2010, "glmnet"): squared
/// loss directly; log loss by iteratively reweighted least squares, each weighted problem solved by
/// coordinate descent; multinomial by cycling such partial Newton steps over the classes.
public struct LinearLearner: Sendable {
    public var parameters: LinearParameters

    public init(parameters: LinearParameters = LinearParameters()) {
        self.parameters = parameters
    }

    /// `deadline` is checked every coordinate-descent pass; when it passes, the coefficients so far are kept
    /// and the model reports that it did not converge.
    public func fit(_ features: FeatureMatrix, target: TargetEncoding, weights: [Double]? = nil,
                    deadline: ContinuousClock.Instant? = nil) throws -> LinearModel {
        try parameters.validate()
        try TrainingInput.check(features, target: target, weights: weights)
        let n = features.rowCount
        if let signs = parameters.signConstraints, signs.count != features.featureCount {
            throw LearnError.invalidParameter("\(signs.count) sign constraints for \(features.featureCount) features")
        }
        let design = LinearDesign(features, weights: weights, maxLevels: parameters.maxLevels)
        let x = try design.columns(features)
        let signs = design.terms.map { parameters.signConstraints?[$0.feature] ?? 0 }
        var solver = CoordinateDescent(x: x, rows: n, columns: design.columnCount, sampleWeights: weights ?? [Double](repeating: 1, count: n),
                                       parameters: parameters, signs: signs, deadline: deadline)
        switch target.task.kind {
        case .regression:
            let (beta, b, iterations, converged) = solver.leastSquares(target.values, start: nil, intercept: nil)
            return LinearModel(task: .regression, design: design, coefficients: [beta], intercepts: [b], iterations: iterations, converged: converged)
        case .binary:
            let (beta, b, iterations, converged) = solver.logistic(target.values)
            return LinearModel(task: .binary, design: design, coefficients: [beta], intercepts: [b], iterations: iterations, converged: converged)
        case .multiclass:
            let (betas, bs, iterations, converged) = solver.multinomial(target.values, classes: target.classCount)
            return LinearModel(task: .multiclass, design: design, coefficients: betas, intercepts: bs, iterations: iterations, converged: converged)
        }
    }
}

/// The coordinate-descent core: minimises (1/2n) Σ wᵢ (zᵢ − b − xᵢβ)² + λ(ρ‖β‖₁ + (1 − ρ)/2 ‖β‖²) for given
/// working weights w and responses z, keeping residuals up to date so each coordinate costs O(n).
struct CoordinateDescent {
    let x: [Double]
    let rows: Int
    let columns: Int
    let sampleWeights: [Double]
    let parameters: LinearParameters
    let signs: [Int]
    let deadline: ContinuousClock.Instant?

    private var expired: Bool { deadline.map { ContinuousClock.now >= $0 } ?? false }

    private var scaleN: Double { sampleWeights.reduce(0, +) }

    /// Weighted least squares from a starting point; returns coefficients, intercept, passes and convergence.
    func weightedLeastSquares(z: [Double], w: [Double], beta start: [Double], intercept: Double, maxPasses: Int) -> ([Double], Double, Int, Bool) {
        let n = rows
        let norm = scaleN
        let l1 = parameters.lambda * parameters.l1Ratio
        let l2 = parameters.lambda * (1 - parameters.l1Ratio)
        var beta = start
        var b = intercept
        var residual = z
        let totalW = w.reduce(0, +)
        return x.withUnsafeBufferPointer { xs in
            w.withUnsafeBufferPointer { ws in
                residual.withUnsafeMutableBufferPointer { r in
                    for i in 0..<n { r[i] -= b }
                    for j in 0..<columns where beta[j] != 0 { Self.axpy(-beta[j], xs.baseAddress! + j * n, r.baseAddress!, n) }
                    let curvature = (0..<columns).map { j in Self.weightedDot(ws.baseAddress!, xs.baseAddress! + j * n, xs.baseAddress! + j * n, n) / norm }
                    // One coordinate's exact minimisation; returns the scaled size of its step.
                    func update(_ j: Int) -> Double {
                        let a = curvature[j]
                        guard a > 0 else { return 0 }
                        let column = xs.baseAddress! + j * n
                        let g = Self.weightedDot(ws.baseAddress!, column, r.baseAddress!, n) / norm + a * beta[j]
                        var updated = (abs(g) > l1 ? (g > 0 ? g - l1 : g + l1) : 0) / (a + l2)
                        if signs[j] > 0 { updated = max(updated, 0) } else if signs[j] < 0 { updated = min(updated, 0) }
                        let delta = updated - beta[j]
                        guard delta != 0 else { return 0 }
                        Self.axpy(-delta, column, r.baseAddress!, n)
                        beta[j] = updated
                        return abs(delta) * a.squareRoot()
                    }
                    func centre() -> Double {
                        guard totalW > 0 else { return 0 }
                        var shift = 0.0
                        for i in 0..<n { shift += ws[i] * r[i] }
                        shift /= totalW
                        b += shift
                        for i in 0..<n { r[i] -= shift }
                        return abs(shift)
                    }
                    // glmnet's active-set cycling: after a pass over every coordinate, passes over the nonzero
                    // ones only until they settle; converged when a full pass changes nothing either. With an
                    // L1 penalty most coordinates stay at zero, and a pass over them costs as much as one that
                    // moves them.
                    var passes = 0
                    while passes < maxPasses {
                        passes += 1
                        var largest = centre()
                        for j in 0..<columns { largest = max(largest, update(j)) }
                        if largest < parameters.tolerance { return (beta, b, passes, true) }
                        if expired { break }
                        let active = (0..<columns).filter { beta[$0] != 0 }
                        guard active.count < columns else { continue }
                        while passes < maxPasses {
                            passes += 1
                            var moved = centre()
                            for j in active { moved = max(moved, update(j)) }
                            if moved < parameters.tolerance || expired { break }
                        }
                    }
                    return (beta, b, passes, false)
                }
            }
        }
    }

    /// Σ wᵢ aᵢ bᵢ with four partial sums (independent chains the processor overlaps).
    @inline(__always)
    private static func weightedDot(_ w: UnsafePointer<Double>, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
        var i = 0
        while i + 4 <= n {
            s0 += w[i] * a[i] * b[i]
            s1 += w[i + 1] * a[i + 1] * b[i + 1]
            s2 += w[i + 2] * a[i + 2] * b[i + 2]
            s3 += w[i + 3] * a[i + 3] * b[i + 3]
            i += 4
        }
        while i < n {
            s0 += w[i] * a[i] * b[i]
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// y += α x.
    @inline(__always)
    private static func axpy(_ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { y[i] += alpha * x[i] }
    }

    mutating func leastSquares(_ y: [Double], start: [Double]?, intercept: Double?) -> ([Double], Double, Int, Bool) {
        weightedLeastSquares(z: y, w: sampleWeights, beta: start ?? [Double](repeating: 0, count: columns), intercept: intercept ?? 0,
                             maxPasses: parameters.maxIterations)
    }

    func logistic(_ y: [Double]) -> ([Double], Double, Int, Bool) {
        let (betas, bs, passes, converged) = newtonCycles(y, outputs: 1)
        return (betas[0], bs[0], passes, converged)
    }

    func multinomial(_ y: [Double], classes k: Int) -> ([[Double]], [Double], Int, Bool) {
        let (betas, bs, passes, converged) = newtonCycles(y, outputs: k)
        return (betas, centred(bs), passes, converged)
    }

    /// Probabilities per output (`p[k][i]`: logistic for one output, softmax for several) and the mean
    /// weighted log loss, from the linear scores.
    private func probabilities(_ etas: [[Double]], _ y: [Double]) -> (p: [[Double]], loss: Double) {
        let k = etas.count
        var p = [[Double]](repeating: [Double](repeating: 0, count: rows), count: k)
        var loss = 0.0
        for i in 0..<rows {
            if k == 1 {
                let q = 1 / (1 + exp(-etas[0][i]))
                p[0][i] = q
                loss -= sampleWeights[i] * (y[i] == 1 ? log(max(q, 1e-300)) : log(max(1 - q, 1e-300)))
            } else {
                var m = -Double.infinity
                for c in 0..<k { m = max(m, etas[c][i]) }
                var sum = 0.0
                for c in 0..<k { sum += exp(etas[c][i] - m) }
                for c in 0..<k { p[c][i] = exp(etas[c][i] - m) / sum }
                loss -= sampleWeights[i] * (etas[Int(y[i])][i] - m - log(sum))
            }
        }
        return (p, loss / scaleN)
    }

    /// Cycles partial Newton steps over the outputs (one output for binary: plain IRLS). Each step solves
    /// the weighted least-squares problem of the quadratic approximation, then is halved until the penalised
    /// objective decreases, so the iteration cannot diverge on (nearly) separable classes.
    private func newtonCycles(_ y: [Double], outputs k: Int) -> ([[Double]], [Double], Int, Bool) {
        var betas = [[Double]](repeating: [Double](repeating: 0, count: columns), count: k)
        var bs = [Double](repeating: 0, count: k)
        var etas = [[Double]](repeating: [Double](repeating: 0, count: rows), count: k)
        var (p, loss) = probabilities(etas, y)
        var current = loss + penalty(betas)
        var total = 0
        cycles: for _ in 0..<500 {
            var change = 0.0
            for c in 0..<k {
                // Checked per output too: a cycle over many classes on many rows takes long enough to overrun.
                if c > 0, expired { break cycles }
                var w = [Double](repeating: 0, count: rows)
                var z = [Double](repeating: 0, count: rows)
                for i in 0..<rows {
                    let q = p[c][i]
                    let indicator: Double = k == 1 ? y[i] : (Int(y[i]) == c ? 1 : 0)
                    let variance = max(q * (1 - q), 1e-10)
                    w[i] = variance * sampleWeights[i]
                    z[i] = etas[c][i] + (indicator - q) / variance
                }
                let (proposal, proposalB, passes, _) = weightedLeastSquares(z: z, w: w, beta: betas[c], intercept: bs[c], maxPasses: parameters.maxIterations)
                total += passes
                var step = 1.0
                while true {
                    var trialBetas = betas
                    trialBetas[c] = zip(betas[c], proposal).map { $0 + step * ($1 - $0) }
                    let trialB = bs[c] + step * (proposalB - bs[c])
                    var trialEtas = etas
                    trialEtas[c] = linear(trialBetas[c], trialB)
                    let (trialP, trialLoss) = probabilities(trialEtas, y)
                    let value = trialLoss + penalty(trialBetas)
                    if value <= current || step < 1e-6 {
                        change = max(change, abs(trialB - bs[c]), zip(trialBetas[c], betas[c]).map { abs($0 - $1) }.max() ?? 0)
                        (betas, bs[c], etas, p, current) = (trialBetas, trialB, trialEtas, trialP, min(value, current))
                        break
                    }
                    step /= 2
                }
            }
            if change < parameters.tolerance * 10 { return (betas, bs, total, true) }
            if expired { break }
        }
        return (betas, bs, total, false)
    }

    /// λ Σₖ (ρ‖βₖ‖₁ + (1 − ρ)/2 ‖βₖ‖²).
    private func penalty(_ betas: [[Double]]) -> Double {
        let l1 = parameters.lambda * parameters.l1Ratio
        let l2 = parameters.lambda * (1 - parameters.l1Ratio)
        return betas.reduce(0.0) { sum, beta in sum + beta.reduce(0.0) { $0 + l1 * abs($1) + l2 / 2 * $1 * $1 } }
    }

    /// Softmax scores are unchanged by a common shift; centring the intercepts gives the solution scikit-learn reports.
    private func centred(_ values: [Double]) -> [Double] {
        let mean = values.reduce(0, +) / Double(values.count)
        return values.map { $0 - mean }
    }

    private func linear(_ beta: [Double], _ b: Double) -> [Double] {
        var eta = [Double](repeating: b, count: rows)
        for j in 0..<columns where beta[j] != 0 { for i in 0..<rows { eta[i] += beta[j] * x[j * rows + i] } }
        return eta
    }
}
