/// Row index sets for validation. All splits are seeded and deterministic: the same inputs and seed give
/// the same indices on every machine. Indices within each part are sorted ascending.
public struct Fold: Codable, Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
}

public enum Splits {
    /// A random holdout of `fraction` of the rows; stratified by `labels` when given (each class keeps its
    /// share, at least one row of each class with two or more rows stays on each side).
    public static func holdout(rows: Int, fraction: Double, seed: UInt64, stratifyBy labels: [UInt32]? = nil) throws -> Fold {
        try check(rows: rows, parts: 2)
        guard fraction > 0, fraction < 1 else { throw DataError.invalidSplit("the holdout fraction must be between 0 and 1, not \(fraction)") }
        var generator = SeededGenerator(seed: seed)
        var validation: [Int] = []
        for group in strata(rows: rows, labels: labels) {
            var members = group
            generator.shuffle(&members)
            var take = Int((Double(members.count) * fraction).rounded())
            if members.count >= 2 { take = min(max(take, 1), members.count - 1) }
            validation.append(contentsOf: members.prefix(take))
        }
        return fold(rows: rows, validation: validation)
    }

    /// k folds over shuffled rows; stratified by `labels` when given (classes dealt round-robin so that each
    /// fold's class shares match the whole).
    public static func kFold(rows: Int, k: Int, seed: UInt64, stratifyBy labels: [UInt32]? = nil) throws -> [Fold] {
        try check(rows: rows, parts: k)
        var generator = SeededGenerator(seed: seed)
        var assignment = [Int](repeating: 0, count: rows)
        var next = 0
        for group in strata(rows: rows, labels: labels) {
            var members = group
            generator.shuffle(&members)
            for row in members {
                assignment[row] = next
                next = (next + 1) % k
            }
        }
        return folds(assignment, k: k)
    }

    /// k folds that never split a group: groups go, largest first, to the fold with the fewest rows (ties
    /// broken by a seeded order). Fails when there are fewer groups than folds.
    public static func groupKFold(groups: [UInt32], k: Int, seed: UInt64) throws -> [Fold] {
        try check(rows: groups.count, parts: k)
        var members: [UInt32: [Int]] = [:]
        for (row, group) in groups.enumerated() { members[group, default: []].append(row) }
        guard members.count >= k else { throw DataError.invalidSplit("\(members.count) groups cannot fill \(k) folds") }
        var order = members.keys.sorted()
        var generator = SeededGenerator(seed: seed)
        generator.shuffle(&order)
        order.sort { members[$0]!.count > members[$1]!.count }
        var sizes = [Int](repeating: 0, count: k)
        var assignment = [Int](repeating: 0, count: groups.count)
        for group in order {
            let fold = sizes.indices.min { sizes[$0] < sizes[$1] }!
            for row in members[group]! { assignment[row] = fold }
            sizes[fold] += members[group]!.count
        }
        return folds(assignment, k: k)
    }

    /// The latest `fraction` of rows by `times` as validation, the rest as training; ties in time never
    /// straddle the cut, so no validation row is older than a training row. Missing times count as oldest.
    public static func timeOrdered(times: [Double], fraction: Double) throws -> Fold {
        try check(rows: times.count, parts: 2)
        guard fraction > 0, fraction < 1 else { throw DataError.invalidSplit("the holdout fraction must be between 0 and 1, not \(fraction)") }
        let order = timeOrder(times)
        var cut = times.count - Int((Double(times.count) * fraction).rounded())
        while cut > 0, cut < times.count, sameTime(times[order[cut - 1]], times[order[cut]]) { cut -= 1 }
        guard cut > 0, cut < times.count else { throw DataError.invalidSplit("all rows share one time, so no time-ordered split exists") }
        return fold(rows: times.count, validation: Array(order[cut...]))
    }

    /// Expanding-window folds in time order: fold i trains on the first i blocks and validates on block i+1.
    public static func timeSeriesFolds(times: [Double], k: Int) throws -> [Fold] {
        try check(rows: times.count, parts: k + 1)
        let order = timeOrder(times)
        let block = times.count / (k + 1)
        return (1...k).map { i in
            let validationEnd = i == k ? times.count : (i + 1) * block
            return Fold(train: order[0..<(i * block)].sorted(), validation: order[(i * block)..<validationEnd].sorted())
        }
    }

    // MARK: Helpers

    private static func check(rows: Int, parts: Int) throws {
        guard parts >= 2 else { throw DataError.invalidSplit("a split needs at least 2 parts, not \(parts)") }
        guard rows >= parts else { throw DataError.invalidSplit("\(rows) rows cannot be split into \(parts) parts") }
    }

    private static func strata(rows: Int, labels: [UInt32]?) -> [[Int]] {
        guard let labels else { return [Array(0..<rows)] }
        precondition(labels.count == rows, "one label per row")
        var byLabel: [UInt32: [Int]] = [:]
        for (row, label) in labels.enumerated() { byLabel[label, default: []].append(row) }
        return byLabel.keys.sorted().map { byLabel[$0]! }
    }

    private static func fold(rows: Int, validation: [Int]) -> Fold {
        var inValidation = [Bool](repeating: false, count: rows)
        for row in validation { inValidation[row] = true }
        return Fold(train: (0..<rows).filter { !inValidation[$0] }, validation: (0..<rows).filter { inValidation[$0] })
    }

    private static func folds(_ assignment: [Int], k: Int) -> [Fold] {
        (0..<k).map { fold in
            Fold(train: assignment.indices.filter { assignment[$0] != fold }, validation: assignment.indices.filter { assignment[$0] == fold })
        }
    }

    private static func timeOrder(_ times: [Double]) -> [Int] {
        times.indices.sorted { a, b in
            let (x, y) = (times[a].isNaN ? -Double.infinity : times[a], times[b].isNaN ? -Double.infinity : times[b])
            return x != y ? x < y : a < b
        }
    }

    private static func sameTime(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
}
