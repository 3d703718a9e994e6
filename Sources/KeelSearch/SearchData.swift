import KeelData
import KeelLearn

/// The rows a search learns from, read once when it begins: the table as given, its rows with a target
/// conformed to the schema, the encoded target and weights, the validation plan, and the search part the
/// trials see (the holdout cut away). Nothing changes it during the search (the plan's folds may be cut to
/// one by the memory budget before the first trial).
struct SearchData {
    /// The table as given (its fingerprint identifies the dataset).
    let frame: Frame
    let task: LearningTask
    let metric: Metric
    /// The rows with a target, conformed to the schema.
    let typed: Frame
    let y: TargetEncoding
    let weights: [Double]?
    /// Rows dropped for a missing target.
    let dropped: Int
    var plan: ValidationPlan
    /// The search part: the rows the trials see.
    let searchFrame: Frame
    let searchY: TargetEncoding
    let searchWeights: [Double]?

    init(frame: Frame, schema: Schema, settings: SearchSettings, warnings: inout [String]) throws {
        self.frame = frame
        guard let targetName = schema.target, let task = schema.task else {
            throw SearchError.invalidInput("a search needs a target column (--target)")
        }
        self.task = task
        metric = settings.metric ?? Metric.defaultFor(task.kind)
        guard metric.isRegression == (task.kind == .regression) else {
            throw SearchError.invalidInput("metric \(metric.rawValue) does not fit a \(task.kind.rawValue) task")
        }
        // Personal data the schema names is said in every run's report, with the flag that keeps it out.
        warnings += SchemaInference.personalDataWarnings(schema)
        let (kept, dropped) = try Search.dropMissingTargets(frame, target: targetName, warnings: &warnings)
        self.dropped = dropped
        typed = try kept.conforming(to: schema)
        let storage: ColumnKind = task.kind == .regression ? .numeric : .categorical
        let y = try TargetEncoding(column: typed[targetName]!.converted(to: storage), task: task)
        self.y = y
        var weights = try Search.weightColumn(typed, schema: schema)
        if settings.balanceClasses {
            guard task.kind != .regression else { throw SearchError.invalidInput("class weights need a classification task") }
            weights = ClassWeights.balanced(y, weights: weights)
        }
        self.weights = weights
        plan = try ValidationPlan.make(frame: typed, schema: schema, target: y, settings: settings)
        let searchRows = plan.holdout.train
        searchFrame = typed.selecting(rows: searchRows)
        searchY = TargetEncoding(task: task, values: searchRows.map { y.values[$0] })
        searchWeights = weights.map { w in searchRows.map { w[$0] } }
    }
}

extension SearchData {
    /// One fold of the search rows, its pipeline fitted on `schema`'s features with `options`.
    func fold(_ fold: Fold, schema: Schema, options: PipelineOptions) throws -> FoldData {
        try FoldData(searchFrame, schema: schema, target: searchY, weights: searchWeights, fold: fold, options: options)
    }

    /// Every fold of the plan, on `schema` with `options`.
    func folds(schema: Schema, options: PipelineOptions) throws -> [FoldData] {
        try plan.folds.map { try fold($0, schema: schema, options: options) }
    }
}
