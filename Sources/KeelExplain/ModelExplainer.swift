import Foundation
import KeelData
import KeelLearn

/// Attributions for every kind of fitted model, exact for each:
/// - boosted trees and forests: TreeSHAP (path-dependent, Lundberg et al.);
/// - linear models: coefficient × standardised value (the design's columns have training mean zero);
/// - explainable boosting: the model's own term scores (pair terms split evenly between their features);
/// - ensembles: the weighted sum of the members' attributions in margin space.
///
/// A classifier forest's margin is the logit (for multiclass the log) of its averaged probabilities, as in
/// ensembles; its exact probability-space TreeSHAP values are rescaled by (logit(p) − logit(p̄)) / (p − p̄),
/// so they add up exactly to the margin (the rescale rule: Shapley values of a logit of an average have no
/// polynomial-time form).
public enum ModelExplainer {
    public static func explain(_ model: FittedModel, task: TaskKind, matrix: FeatureMatrix, names: [String]) throws -> Attributions {
        switch model {
        case .gradientBoosting(let boosted):
            let base = (0..<boosted.outputCount).map { k in
                boosted.initialScores[k] + stride(from: k, to: boosted.trees.count, by: boosted.outputCount).reduce(0) { $0 + TreeSHAP.expectedValue(boosted.trees[$1]) }
            }
            return trees(boosted.trees, outputs: boosted.outputCount, scale: 1, base: base, matrix: matrix, names: names)
        case .forest(let forest) where task != .regression:
            // A classifier forest's margin is the logit (log for multiclass) of its averaged probabilities.
            let probabilities = try explain(.forest(forest), task: .regression, matrix: matrix, names: names)
            return try logitRescaled(probabilities, member: model, task: task, matrix: matrix)
        case .forest(let forest):
            let perOutput = forest.trees.count / forest.outputCount
            let scale = 1 / Double(perOutput)
            let base = (0..<forest.outputCount).map { k in
                stride(from: k, to: forest.trees.count, by: forest.outputCount).reduce(0) { $0 + TreeSHAP.expectedValue(forest.trees[$1]) } * scale
            }
            return trees(forest.trees, outputs: forest.outputCount, scale: scale, base: base, matrix: matrix, names: names)
        case .linear(let linear):
            return try self.linear(linear, matrix: matrix, names: names)
        case .explainableBoosting(let ebm):
            return try explainable(ebm, matrix: matrix, names: names)
        case .external(let model):
            throw LearnError.invalidData("a model of learner family '\(model.family)' (defined outside Keel) has no exact attributions")
        case .ensemble(let ensemble):
            var total: Attributions?
            for (member, weight) in zip(ensemble.members, ensemble.weights) {
                let part = try explain(member, task: task, matrix: matrix, names: names)
                if total == nil {
                    total = Attributions(rowCount: part.rowCount, outputCount: part.outputCount, names: names,
                                         base: part.base.map { $0 * weight }, values: part.values.map { $0 * weight })
                } else {
                    for k in 0..<part.outputCount { total!.base[k] += weight * part.base[k] }
                    for i in part.values.indices { total!.values[i] += weight * part.values[i] }
                }
            }
            guard var total else { throw LearnError.invalidData("an ensemble without members cannot be explained") }
            // A stack's intercept moves every row's margin alike: it belongs to the base, not to any feature.
            if let intercepts = ensemble.intercepts { for k in 0..<total.outputCount { total.base[k] += intercepts[k] } }
            return total
        }
    }

    /// Checks additivity: the largest |base + Σ attributions − raw margin| over all rows and outputs.
    public static func additivityError(_ attributions: Attributions, model: FittedModel, task: TaskKind, matrix: FeatureMatrix) throws -> Double {
        let margins = try model.rawScores(matrix, task: task)
        var worst = 0.0
        for row in 0..<attributions.rowCount {
            for k in 0..<attributions.outputCount {
                worst = max(worst, abs(attributions.margin(row: row, output: k) - margins[row * attributions.outputCount + k]))
            }
        }
        return worst
    }

    // MARK: Trees

    /// Trees summed in fixed groups of this many: each row's attributions are the groups' sums added in
    /// order, whatever the batch size or core count, so a row explains identically alone or in a batch.
    static let treeGroup = 32

    private static func trees(_ trees: [Tree], outputs: Int, scale: Double, base: [Double], matrix: FeatureMatrix, names: [String]) -> Attributions {
        let n = matrix.rowCount
        let features = matrix.featureCount
        let width = outputs * features
        let groups = stride(from: 0, to: trees.count, by: treeGroup).map { $0..<min($0 + treeGroup, trees.count) }
        var values = [Double](repeating: 0, count: n * width)
        let chunks = Parallel.chunks(n, minimum: 16)
        if chunks.count < Parallel.coreCount && groups.count > 1 {
            // Few rows (reason codes, a served request): the cores share the trees instead, each group into a
            // buffer of its own, and the groups are added in order.
            var partial = [Double](repeating: 0, count: groups.count * n * width)
            partial.withUnsafeMutableBufferPointer { buffer in
                let out = SharedBuffer(base: buffer.baseAddress!)
                Parallel.forEach(groups.count) { g in
                    let explainers = groups[g].map { TreeSHAP(tree: trees[$0]) }
                    let slice = out.base + g * n * width
                    matrix.values.withUnsafeBufferPointer { x in
                        for (offset, t) in groups[g].enumerated() {
                            let k = t % outputs
                            for row in 0..<n { explainers[offset].accumulate(x.baseAddress! + row, stride: n, scale: scale, into: slice + row * width + k * features) }
                        }
                    }
                }
            }
            for g in groups.indices {
                let start = g * n * width
                for i in values.indices { values[i] += partial[start + i] }
            }
            return Attributions(rowCount: n, outputCount: outputs, names: names, base: base, values: values)
        }
        values.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(base: buffer.baseAddress!)
            Parallel.forEach(chunks.count) { c in
                let explainers = trees.map(TreeSHAP.init(tree:))
                let block = 64
                let group = UnsafeMutablePointer<Double>.allocate(capacity: block * width)
                defer { group.deallocate() }
                // Blocks of rows, trees outside: a tree's nodes stay in cache while a block of rows walks it.
                matrix.values.withUnsafeBufferPointer { x in
                    for first in stride(from: chunks[c].lowerBound, to: chunks[c].upperBound, by: block) {
                        let rows = first..<min(first + block, chunks[c].upperBound)
                        for trees in groups {
                            group.initialize(repeating: 0, count: rows.count * width)
                            for t in trees {
                                let k = t % outputs
                                for row in rows {
                                    explainers[t].accumulate(x.baseAddress! + row, stride: n, scale: scale, into: group + (row - first) * width + k * features)
                                }
                            }
                            let target = out.base + first * width
                            for i in 0..<(rows.count * width) { target[i] += group[i] }
                        }
                    }
                }
            }
        }
        return Attributions(rowCount: n, outputCount: outputs, names: names, base: base, values: values)
    }

    /// A forest's probability-space attributions moved into the margin space the ensemble blends in.
    private static func logitRescaled(_ part: Attributions, member: FittedModel, task: TaskKind, matrix: FeatureMatrix) throws -> Attributions {
        let margins = try member.rawScores(matrix, task: task)
        let link: (Double) -> Double = task == .binary
            ? { p in let q = min(max(p, 1e-6), 1 - 1e-6); return log(q / (1 - q)) }
            : { p in log(min(max(p, 1e-6), 1)) }
        var rescaled = part
        rescaled.base = part.base.map(link)
        let features = part.names.count
        for row in 0..<part.rowCount {
            for k in 0..<part.outputCount {
                let p = part.margin(row: row, output: k)
                let target = margins[row * part.outputCount + k] - rescaled.base[k]
                let moved = p - part.base[k]
                let start = (row * part.outputCount + k) * features
                if abs(moved) > 1e-12 {
                    let factor = target / moved
                    for f in 0..<features { rescaled.values[start + f] = part.values[start + f] * factor }
                } else {
                    // No movement in probability: spread the (tiny) margin difference evenly.
                    for f in 0..<features { rescaled.values[start + f] = target / Double(features) }
                }
            }
        }
        return rescaled
    }

    // MARK: Linear and EBM

    private static func linear(_ model: LinearModel, matrix: FeatureMatrix, names: [String]) throws -> Attributions {
        let x = try model.design.columns(matrix)
        let n = matrix.rowCount
        let outputs = model.coefficients.count
        let features = matrix.featureCount
        var values = [Double](repeating: 0, count: n * outputs * features)
        for k in 0..<outputs {
            for (j, term) in model.design.terms.enumerated() {
                let beta = model.coefficients[k][j]
                guard beta != 0 else { continue }
                for i in 0..<n { values[(i * outputs + k) * features + term.feature] += beta * x[j * n + i] }
            }
        }
        return Attributions(rowCount: n, outputCount: outputs, names: names, base: model.intercepts, values: values)
    }

    private static func explainable(_ model: ExplainableBoostingModel, matrix: FeatureMatrix, names: [String]) throws -> Attributions {
        let n = matrix.rowCount
        let outputs = model.outputs
        let features = matrix.featureCount
        let parts = try model.termContributions(matrix)
        var values = [Double](repeating: 0, count: n * outputs * features)
        for (t, term) in model.terms.enumerated() {
            let share = 1 / Double(term.features.count)
            for i in 0..<n {
                for k in 0..<outputs {
                    let contribution = parts[t][i * outputs + k] * share
                    for f in term.features { values[(i * outputs + k) * features + f] += contribution }
                }
            }
        }
        return Attributions(rowCount: n, outputCount: outputs, names: names, base: model.intercepts, values: values)
    }
}
