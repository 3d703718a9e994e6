import KeelData
import KeelLearn

/// The trivial model every shipped model is compared with on the holdout: it ignores the row and predicts the
/// training rows' class shares (so its label is the majority class) or their mean.
struct Baseline {
    let task: TaskKind
    let classCount: Int
    /// Class shares (classifiers) or the mean (regression).
    let values: [Double]

    init(_ target: TargetEncoding) {
        task = target.task.kind
        classCount = target.classCount
        let n = Double(max(target.values.count, 1))
        if task == .regression {
            values = [target.values.reduce(0, +) / n]
        } else {
            var counts = [Double](repeating: 0, count: classCount)
            for label in target.values { counts[Int(label)] += 1 }
            values = counts.map { $0 / n }
        }
    }

    /// The same prediction for every row, in the layout `Metric.evaluate` reads.
    func predictions(rows: Int) -> [Double] {
        (0..<rows).flatMap { _ in values }
    }

    var description: String {
        task == .regression ? "always predicting the training mean" : "always predicting the training rows' class shares"
    }
}
