/// How much the metric worsens when one input column's values are shuffled (Breiman 2001; scikit-learn's
/// `permutation_importance`), per column of the user's data, measured on the holdout so it describes the
/// shipped model on unseen rows. KeelExplain measures it; reports carry it.
public struct FeatureImportance: Codable, Sendable {
    public var column: String
    /// Mean worsening of the metric over the repeats (positive: the model relies on the column).
    public var importance: Double
    public var std: Double

    public init(column: String, importance: Double, std: Double) {
        (self.column, self.importance, self.std) = (column, importance, std)
    }
}

/// A column's global importance by attribution: the mean |Shapley value| over the rows explained.
/// KeelExplain computes it; reports carry it.
public struct ColumnAttribution: Codable, Sendable, Equatable {
    public var column: String
    public var meanAbsolute: Double

    public init(column: String, meanAbsolute: Double) {
        self.column = column
        self.meanAbsolute = meanAbsolute
    }
}
