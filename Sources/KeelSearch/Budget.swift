import Foundation
import KeelLearn

/// The search's time in one place: the clock the budget runs on, every share of it a step may spend, and the
/// answers to "may this step run?", given by the clock, or by the replay record when a run is reproduced, or
/// always yes with a fixed trial count (which has no clock). No step of the search reads the clock or the
/// replay record to decide for itself.
///
/// The shares, and why each exists:
/// - a trial may take `trialShare` of the budget (`costlyTrialShare` for the portfolio's costly entries): one
///   slow configuration cannot starve the rest;
/// - a trial starts only with `startShare` of the budget (at least a second) left before the search deadline;
/// - the search deadline keeps back the refit of the likely winners (`refitReserve`, at least `refitFloor` of
///   the budget, `refitFullFloor` with `--refit-full`, which refits twice);
/// - once a model leads, a new trial runs only while its own refit would still fit after it
///   (`trialDeadline`): a costlier winner found late would otherwise leave no time to refit it;
/// - after the model is final, the tail: scoring the holdout and writing the artefact (at least
///   `minimumTailShare` of the budget, measured sizes with `tailMargin`);
/// - the column screen gets `columnScreenShare` of the budget from the search's start (columns it has not
///   reached by then are kept), the value screen `valueScreenShare` from its own start (past it the values
///   are left out);
/// - feature importance gets `importanceShare` of the time left; attributions run when `attributionShare` of
///   the budget is left.
struct Budget {
    static let trialShare = 0.3
    static let costlyTrialShare = 0.15
    static let startShare = 0.02
    static let refitFloor = 0.1
    static let refitFullFloor = 0.25
    static let minimumTailShare = 0.02
    static let tailMargin = 1.15
    static let columnScreenShare = 0.15
    static let valueScreenShare = 0.1
    static let importanceShare = 0.4
    static let attributionShare = 0.1
    /// A write after the search (encode, checksum, write) takes about this many encodings.
    static let encodingsPerWrite = 2.0
    /// A refit on the search rows runs about a tenth more boosting rounds than its fold's early stopping chose.
    static let refitRounds = 1.1
    /// The margin on every measured refit estimate.
    static let refitMargin = 1.15
    /// With `--refit-full` the shipped members are fitted again on all rows (about a quarter more), with the
    /// writes between: about 3.3 times the one refit.
    static let refitFullFactor = 3.3

    /// The budget in seconds (nil: a fixed trial count or a replay, no clock).
    let seconds: Double?
    let started: ContinuousClock.Instant
    /// When the whole budget runs out (nil without a clock).
    let end: ContinuousClock.Instant?
    /// When the shipped model must be final: the end less the tail at the current pace. Moved as the pace
    /// and the chosen model's size become known (`settleFinalDeadline`).
    private(set) var finalDeadline: ContinuousClock.Instant?
    /// How much slower the machine runs now than when the search began.
    private var pace = Pace()
    /// Seconds to encode one stored value of a model, at the pace the search began, measured on the first
    /// sizeable model a trial fitted (nil until then: small models encode in no time).
    private(set) var encodeSecondsPerValue: Double?
    /// The record a reproduction follows (nil under a clock or with a fixed trial count).
    let replay: ReplaySchedule?
    /// Rows the holdout scores and writes after the search: they size the tail.
    var holdoutRows = 0
    var writesAfterSearch = 1

    /// A budget of `seconds` on the clock, or none (`clocked` false: a fixed trial count), or a replay's record.
    init(seconds: Double, clocked: Bool, replay: ReplaySchedule?, now: ContinuousClock.Instant = .now) {
        started = now
        self.replay = replay
        if clocked {
            self.seconds = seconds
            end = now + .seconds(seconds)
            finalDeadline = end.map { $0 - .seconds(seconds * Self.minimumTailShare) }
        } else {
            (self.seconds, end, finalDeadline) = (nil, nil, nil)
        }
    }

    var elapsed: Double { (ContinuousClock.now - started).seconds }
    /// Seconds until the model must be final (infinite without a clock).
    var secondsLeft: Double { finalDeadline.map { ($0 - ContinuousClock.now).seconds } ?? .infinity }
    /// Whether the time for the model has run out (never without a clock).
    var isPastFinal: Bool { finalDeadline.map { ContinuousClock.now >= $0 } ?? false }
    /// Whether `cost` seconds of work started now end before the model must be final (always without a clock).
    func fits(_ cost: Double) -> Bool { finalDeadline.map { ContinuousClock.now + .seconds(cost) <= $0 } ?? true }

    /// The factor (at least 1) by which work on `threads` threads runs slower now than when the search began.
    mutating func slowdown(threads: Int = 1, fresh: Bool = false) -> Double { pace.slowdown(threads: threads, fresh: fresh) }

    /// Records what encoding a model of `values` stored values took, as the rate at the search's first pace.
    mutating func measuredEncoding(seconds: Double, values: Int) {
        encodeSecondsPerValue = seconds / Double(max(values, 1)) / pace.slowdown()
    }

    /// Seconds, at the pace the search began, of the steps after the model is final: encoding it once to
    /// measure the write, scoring the holdout twice (its score, then the monitoring profile's predictions),
    /// and the caller's writes.
    func tailSeconds(values: Int, predictMillisecondsPer1000: Double) -> Double {
        let encode = Double(values) * (encodeSecondsPerValue ?? 0)
        let scoring = predictMillisecondsPer1000 / 1e6 * Double(holdoutRows)
        return encode * (1 + Self.encodingsPerWrite * Double(writesAfterSearch)) + scoring * 2
    }

    /// Sets the final deadline from the tail a model of `values` stored values predicting at that cost takes
    /// at the current pace, with `tailMargin` more.
    mutating func settleFinalDeadline(values: Int, predictMillisecondsPer1000: Double, fresh: Bool = false) {
        guard let end, let seconds else { return }
        let tail = tailSeconds(values: values, predictMillisecondsPer1000: predictMillisecondsPer1000) * pace.slowdown(fresh: fresh) * Self.tailMargin
        finalDeadline = end - .seconds(max(seconds * Self.minimumTailShare, tail))
    }

    /// Makes the model's time run out at `instant`, as a clock would: how tests put a step past its deadline.
    mutating func runOut(at instant: ContinuousClock.Instant) { finalDeadline = instant }

    /// The deadline of a screen given `share` of the budget from `from` (nil without a clock).
    func screenDeadline(share: Double, from: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let seconds, let finalDeadline else { return nil }
        return min(finalDeadline, from + .seconds(seconds * share))
    }

    /// Time kept back for refitting the winner on all search rows: the refits of the trials an ensemble would
    /// likely refit (the best and up to four more within 2% of its error), each `refitPerFoldFit` times its
    /// fold fits, scaled by `slowdown`, how much slower the machine runs now than when they were measured. At
    /// least `refitFloor` of the budget (`refitFullFloor` with `refitFull`).
    static func refitReserve(_ trials: [TrialResult], metric: Metric, budget: Double, refitFull: Bool = false,
                             rowsRatio: Double = 1.4, slowdown: Double = 1) -> Double {
        let floor = budget * (refitFull ? refitFullFloor : refitFloor)
        let ranked = trials.filter { $0.status == .completed }.sorted { metric.error($0.mean) < metric.error($1.mean) }
        guard let best = ranked.first else { return floor }
        let contenders = ranked.prefix(5).filter { metric.error($0.mean) <= metric.error(best.mean) * 1.02 + 1e-12 }
        let perFoldFit = refitPerFoldFit(rowsRatio: rowsRatio, refitFull: refitFull)
        return max(floor, (contenders.map(\.fitSeconds).reduce(0, +) * perFoldFit + 0.5) * slowdown)
    }

    /// Seconds of refitting (on the search rows; with `refitFull`, on all rows too) per second one fold's fit
    /// took, for a refit that sees `rowsRatio` times the rows a fold's fit saw: the reserve's rule, which
    /// also allows for an ensemble's members refitted twice.
    static func refitPerFoldFit(rowsRatio: Double, refitFull: Bool) -> Double {
        rowsRatio * refitRounds * refitMargin * (refitFull ? refitFullFactor : 1)
    }

    /// Seconds one model's own refits take per second one fold's fit took: on the search rows (`rowsRatio`
    /// times a fold's rows), then, with `fullRefitScale` (`--refit-full`), on all rows, which takes that
    /// many times the first refit.
    static func ownRefitPerFoldFit(rowsRatio: Double, fullRefitScale: Double?) -> Double {
        rowsRatio * refitRounds * refitMargin * (1 + (fullRefitScale ?? 0))
    }

    /// The search deadline: the final one less `reserve` seconds (nil without a clock).
    func searchDeadline(reserve: Double) -> ContinuousClock.Instant? {
        finalDeadline.map { $0 - .seconds(reserve) }
    }

    /// Whether another trial may start before `searchDeadline`: always the first, then only with
    /// `startShare` of the budget (at least a second) left. Every learner stops at its deadline, so a
    /// trial may start whenever that much is left.
    func mayStartTrial(before searchDeadline: ContinuousClock.Instant?, first: Bool) -> Bool {
        guard let searchDeadline, let seconds, !first else { return true }
        return ContinuousClock.now + .seconds(max(1, seconds * Self.startShare)) <= searchDeadline
    }

    /// Why a trial's deadline is where it is.
    enum TrialLimit: Equatable { case searchDeadline, share, ownRefit }

    /// The deadline of a trial starting now: the search deadline, `share` of the budget, and, when a model
    /// already leads (`ownRefit` given), the point after which this trial's own refit would no longer fit
    /// before the model must be final.
    ///
    /// A trial fits its folds in `batches` rounds, so one fold's fit takes about its time over `batches`,
    /// and its refit `refitPerFoldFit` times that. Ending at `t`, it leaves `final − t` for a refit of
    /// `(t − now) · refitPerFoldFit / batches`; the latest `t` where that fits is
    /// `now + (final − now) / (1 + refitPerFoldFit / batches)`.
    func trialDeadline(before searchDeadline: ContinuousClock.Instant?, share: Double,
                       ownRefit: (perFoldFit: Double, batches: Int)?) -> (deadline: ContinuousClock.Instant, limit: TrialLimit)? {
        guard let searchDeadline, let seconds, let finalDeadline else { return nil }
        let now = ContinuousClock.now
        var limits: [(ContinuousClock.Instant, TrialLimit)] = [(searchDeadline, .searchDeadline), (now + .seconds(seconds * share), .share)]
        if let ownRefit, finalDeadline > now {
            let factor = ownRefit.perFoldFit / Double(max(ownRefit.batches, 1))
            limits.append((now + (finalDeadline - now) / (1 + factor), .ownRefit))
        }
        let earliest = limits.min { $0.0 < $1.0 }!
        return (earliest.0, earliest.1)
    }

    /// The steps after the first refit whose running the clock decides, and a replay's record repeats.
    enum Step {
        /// Fitting again the sampled boosting members with more seeds.
        case seedBag
        /// Refitting the members of a stacked second layer.
        case stack
        /// Refitting the shipped model on all rows (`--refit-full`).
        case refitFull
    }

    /// Whether `step`, costing `cost` seconds, runs: as the replay record says when reproducing a run, by
    /// the clock otherwise, always without either.
    func allows(_ step: Step, cost: Double) -> Bool {
        if let replay {
            return switch step {
            case .seedBag: replay.seedBagged == true
            case .stack: replay.stackSkipped != true
            case .refitFull: replay.refittedOnAllRows
            }
        }
        return fits(cost)
    }

    /// Seconds the selection of an ensemble may plan refits for: unlimited when replaying (the record names
    /// the members) or without a clock, the time left otherwise. When the refit on all rows must follow
    /// (`refitFull`), the plan keeps `refitMargin` of it back: members' refit times are estimated from their
    /// fold fits, and an estimate a little short would cost the refit the user asked for.
    func ensembleSeconds(refitFull: Bool) -> Double {
        guard replay == nil else { return .infinity }
        return refitFull ? secondsLeft / Self.refitMargin : secondsLeft
    }

    /// Whether the clock decides (so its decisions are recorded for a replay).
    var isClocked: Bool { seconds != nil }

    /// Whether trial `id` runs: a replay records the trials the clock cut short as stopped, without running them.
    func runs(trial id: Int) -> Bool { !(replay?.stoppedTrials.contains(id) ?? false) }

    /// Whether the run being replayed shipped its leader's first-fold model (its refit was cut short).
    var replayShipsFoldModel: Bool { replay?.shippedFoldModel == true }

    /// Whether blends, stacks and seed bags may follow the first refit: not after a refit the clock cut
    /// short (`cutShort`), nor once the time for the model is over.
    func allowsEnsembles(afterCutShort cutShort: Bool) -> Bool { !cutShort && !isPastFinal }

    /// How ensemble selection runs.
    enum EnsemblePlan: Equatable {
        /// No blend: the run being replayed shipped none, or had no time to refit it.
        case none
        /// The blend the replayed run shipped, in the order selection picked its members.
        case picks([Int])
        /// Selection again, among the members the replayed run's time allowed (records from before picks).
        case among(Set<Int>)
        /// Selection with refits planned within `seconds` (infinite without a clock).
        case select(seconds: Double)
    }

    func ensemblePlan(refitFull: Bool) -> EnsemblePlan {
        guard let replay else { return .select(seconds: ensembleSeconds(refitFull: refitFull)) }
        if replay.ensembleSkipped { return .none }
        if let picks = replay.ensemblePicks { return picks.isEmpty ? .none : .picks(picks) }
        if let members = replay.ensembleMembers { return .among(Set(members)) }
        return .select(seconds: .infinity)
    }

    /// Of `rows` holdout rows, how many `passes` scorings taking `secondsPerPass` each may use within
    /// `importanceShare` of the time left (all of them without a clock; at least 200).
    func importanceRows(_ rows: Int, passes: Double, secondsPerPass: Double) -> Int {
        let available = secondsLeft * Self.importanceShare
        guard passes * secondsPerPass > available, rows > 200 else { return rows }
        let share = max(available, 0) / (passes * secondsPerPass)
        return max(200, Int(Double(rows) * share))
    }

    /// Whether attributions may run: `attributionShare` of the budget is left before the model must be final.
    var allowsAttributions: Bool {
        guard let seconds else { return true }
        return fits(seconds * Self.attributionShare)
    }
}
