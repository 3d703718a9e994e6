import KeelData

/// The target as learners take it: class indices (in the task's class order) or values, with checks that
/// make bad targets an error instead of a silent NaN model.
public struct TargetEncoding: Sendable {
    public let task: LearningTask
    /// Class index per row for classification, the value for regression.
    public let values: [Double]

    public var classCount: Int { task.classes?.count ?? 0 }

    /// - Throws: `LearnError.invalidTarget` for missing or infinite values, or labels outside the classes.
    public init(column: Column, task: LearningTask) throws {
        self.task = task
        switch task.kind {
        case .regression:
            guard case .numeric(let v) = column.values else {
                throw LearnError.invalidTarget("target '\(column.name)' must be numeric for regression")
            }
            if let row = v.firstIndex(where: { !$0.isFinite }) {
                throw LearnError.invalidTarget("target '\(column.name)' has a \(v[row].isNaN ? "missing" : "infinite") value at row \(row + 1); drop or fix such rows before training")
            }
            values = v
        case .binary, .multiclass:
            let classes = task.classes ?? []
            guard classes.count >= 2 else { throw LearnError.invalidTarget("a classifier needs at least two classes") }
            guard classes.count <= column.count else {
                throw LearnError.invalidTarget("target '\(column.name)' has \(classes.count) classes but only \(column.count) rows; a classifier needs more rows than classes")
            }
            var index: [String: Int] = [:]
            for (i, label) in classes.enumerated() { index[label] = i }
            var encoded = [Double](repeating: 0, count: column.count)
            for row in 0..<column.count {
                guard let label = column.displayValue(at: row) else {
                    throw LearnError.invalidTarget("target '\(column.name)' is missing at row \(row + 1); drop such rows before training")
                }
                guard let code = index[label] else {
                    throw LearnError.invalidTarget("target '\(column.name)' has label '\(label)' at row \(row + 1), which is not one of the classes \(classes.joined(separator: ", "))")
                }
                encoded[row] = Double(code)
            }
            values = encoded
        }
    }

    public init(task: LearningTask, values: [Double]) {
        self.task = task
        self.values = values
    }
}
