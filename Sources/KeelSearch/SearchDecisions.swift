import KeelLearn

/// What a search decided that a replay must decide the same way: the screens' verdicts, and the steps the
/// clock allowed, skipped or cut short. `schedule` writes them as the report's replay record.
struct SearchDecisions {
    /// The column screen's verdicts, in the order it took them.
    var columnScreen: [ColumnScreen] = []
    /// The identifier screen's verdicts (inferred identifiers probed as features).
    var identifierScreen: [ColumnScreen] = []
    /// The value screen's verdict, when it ran.
    var valueScreen: ValueScreen?
    /// An ensemble won out of fold but there was no time to refit it.
    var ensembleSkipped = false
    /// Set when time limited the ensemble's members: the ones chosen among.
    var ensembleMembers: [Int]?
    /// Under a clock: the blend as selection picked it (empty: none).
    var ensemblePicks: [Int]?
    var stackSkipped = false
    /// Whether the sampled boosting members were averaged over `SearchRun.seedBags` seeds.
    var seedBagged = false
    var refitCutShort = false
    /// The refit of the leader could not finish, so its complete first-fold model shipped.
    var shippedFoldModel = false
    /// The fallback ridge model (no trial completed) stopped at the deadline before converging.
    var baselineCutShort = false
    /// Why the shipped model is not of the families the user asked for (nil when it is).
    var fallback: String?

    /// The replay record of a search that ran `trials` on `splits` validation splits (screens recorded only
    /// when they were on).
    func schedule(trials: [TrialResult], splits: Int, refittedOnAllRows: Bool, screened: Bool) -> ReplaySchedule {
        var record = ReplaySchedule(trialCount: trials.count, stoppedTrials: trials.filter { $0.status == .stopped }.map(\.id),
                                    ensembleSkipped: ensembleSkipped, ensembleMembers: ensembleMembers, stackSkipped: stackSkipped,
                                    seedBagged: seedBagged, refitCutShort: refitCutShort, refittedOnAllRows: refittedOnAllRows)
        record.columnScreen = screened ? columnScreen : nil
        record.identifierScreen = screened ? identifierScreen : nil
        record.valueScreen = valueScreen
        record.shippedFoldModel = shippedFoldModel ? true : nil
        record.ensemblePicks = ensemblePicks
        record.baselineCutShort = baselineCutShort ? true : nil
        record.validationSplits = splits
        record.searchVersion = Search.semanticsVersion
        return record
    }
}
