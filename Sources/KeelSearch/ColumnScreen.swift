import KeelData
import KeelLearn

/// The screen's verdict on one high-cardinality categorical column.
///
/// Such columns (surnames, tail numbers, ticket codes) reach learners as a native category and as a
/// target encoding, and both can fit noise: splits on groups of rare levels, encodings of levels seen a
/// few times. Whether a column helps is measured, not guessed: a cheap probe configuration is
/// cross-validated on the same folds with and without it, and the column is dropped when the probe
/// scores better without it. (Asking for most folds to agree as well kept surnames on bank churn that
/// the full search scores better without: a useless column costs little when dropped, a noisy one a lot
/// when kept.)
public struct ColumnScreen: Codable, Sendable, Equatable {
    public var column: String
    /// Distinct values among the search rows.
    public var levels: Int
    /// The probe's cross-validated score with the column (and every column kept before it) and without it.
    public var scoreWith: Double
    public var scoreWithout: Double
    /// Folds on which the probe scored better without the column, of `folds`.
    public var foldsBetterWithout: Int
    public var folds: Int
    public var dropped: Bool

    /// The verdict on a column from the probe's fold scores with it and without it (the same folds).
    init(column: String, levels: Int, with: TrialResult, without: TrialResult, metric: Metric) {
        (self.column, self.levels, scoreWith, scoreWithout) = (column, levels, with.mean, without.mean)
        folds = min(with.foldScores.count, without.foldScores.count)
        foldsBetterWithout = zip(with.foldScores, without.foldScores).filter { metric.error($1) < metric.error($0) }.count
        dropped = metric.error(without.mean) < metric.error(with.mean)
    }

    /// "dropped 'Surname' (2266 levels; probe roc_auc 0.8562 without it, 0.8558 with it; better without on 2 of 5 folds)".
    func summary(_ metric: Metric) -> String {
        "\(dropped ? "dropped" : "kept") '\(column)' (\(levels) levels; probe \(metric.rawValue) \(Search.format(scoreWithout)) without it, \(Search.format(scoreWith)) with it; better without on \(foldsBetterWithout) of \(folds) folds)"
    }

    /// At most this many columns are screened, those with the most levels first: each costs a probe.
    static let maximumColumns = 4

    /// Categorical features with enough levels to be target-encoded, most levels first, leaving out the
    /// columns the user asked to keep.
    static func candidates(_ frame: Frame, schema: Schema, keep: Set<String>, encodingAbove: Int) -> [(column: String, levels: Int)] {
        let found = schema.columns(withRole: .feature).compactMap { column -> (column: String, levels: Int)? in
            guard column.kind == .categorical, !keep.contains(column.name), case .categorical(let strings)? = frame[column.name]?.values else { return nil }
            let levels = Set(strings.codes.lazy.filter { $0 != EncodedStrings.missing }).count
            return levels > encodingAbove ? (column.name, levels) : nil
        }
        return Array(found.sorted { $0.levels != $1.levels ? $0.levels > $1.levels : $0.column < $1.column }.prefix(maximumColumns))
    }

    /// Columns schema inference made identifiers (unique, and named or numbered like one), which a probe
    /// may still find signal in; at most two, in schema order. Identifiers the user named are not among them.
    static func identifierCandidates(_ schema: Schema, keep: Set<String>) -> [String] {
        Array(schema.columns.filter { $0.role == .id && $0.flags.contains(.idLike) && !keep.contains($0.name) }.map(\.name).prefix(2))
    }

    /// "left out 'customer_id' (probe roc_auc 0.8562 without it, 0.8558 with it)".
    func identifierSummary(_ metric: Metric) -> String {
        "\(dropped ? "left out identifier" : "kept as a feature") '\(column)' (\(probeScores(metric)))"
    }

    /// "probe roc_auc 0.8564 without it, 0.8533 with it".
    func probeScores(_ metric: Metric) -> String {
        "probe \(metric.rawValue) \(Search.format(scoreWithout)) without it, \(Search.format(scoreWith)) with it"
    }

    /// `schema` with `columns` ignored.
    static func dropping(_ columns: [String], from schema: Schema) -> Schema {
        var screened = schema
        for (index, column) in screened.columns.enumerated() where columns.contains(column.name) {
            screened.columns[index].role = .ignored
        }
        return screened
    }
}
