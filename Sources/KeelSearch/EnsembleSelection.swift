import KeelData
import KeelLearn

/// Greedy ensemble selection with replacement (Caruana, Niculescu-Mizil, Crew & Ksikes 2004) on out-of-fold
/// raw margins: start from the best single model, then repeatedly add (with replacement) whichever trial
/// gives the best metric of the averaged margins, for every iteration, and keep the best blend seen. A step
/// that does not improve may still lead to one: beside a strong model, a weaker but different one can help
/// at a seventh of the weight yet hurt at half, and stopping at the first step that fails to improve would
/// ship the strong model alone (`selectionLooksPastAStepThatDoesNotImprove` shows it). Each new member costs
/// its refit: with a time budget, only members whose refits still fit are added, so a budget too small for
/// the best blend still gets the best one it can afford rather than none.
enum EnsembleSelection {
    struct Choice {
        /// Trial id → how many times it was picked.
        var counts: [Int: Int]
        var score: Double
        var bestSingleScore: Double
        /// True when the budget kept out a member that would have improved the blend more.
        var limited = false
        /// The trial ids in the order selection picked them (each as often as `counts` says): a replay
        /// blends them in this order to get the same score to the last bit.
        var picks: [Int] = []
    }

    /// `cost[id]`: seconds to refit and write that trial's model (the best single model's counts too).
    static func select(_ candidates: [(id: Int, margins: [Double])], truth: [Double], metric: Metric, task: TaskKind,
                       outputs: Int, classCount: Int, iterations: Int = 25, cost: [Int: Double] = [:],
                       budget: Double = .infinity) -> Choice? {
        guard candidates.count >= 2,
              let blends = Blends(candidates, truth: truth, metric: metric, task: task, outputs: outputs, classCount: classCount) else { return nil }
        let (pool, singles, first) = (blends.pool, blends.singles, blends.first)
        let score = blends.score, better = blends.better
        var sum = pool[first]
        var counts = [candidates[first].id: 1]
        var size = 1.0
        var spent = cost[candidates[first].id] ?? 0
        var picks = [candidates[first].id]
        var best = (counts: counts, score: singles[first]!, picks: picks)
        var limited = false
        for _ in 1..<iterations {
            var bestNext: (index: Int, score: Double)?
            var bestUnaffordable: Double?
            for c in pool.indices {
                guard let s = score(Blends.adding(pool[c], to: sum, size: size)) else { continue }
                if counts[candidates[c].id] == nil, spent + (cost[candidates[c].id] ?? 0) > budget {
                    if bestUnaffordable == nil || better(s, bestUnaffordable!) { bestUnaffordable = s }
                } else if bestNext == nil || better(s, bestNext!.score) {
                    bestNext = (c, s)
                }
            }
            // A tie counts as limited too: without the budget, the earlier candidate of a tie would be taken.
            if let s = bestUnaffordable, better(s, best.score), bestNext.map({ !better($0.score, s) }) ?? true { limited = true }
            guard let next = bestNext else { break }
            if counts[candidates[next.index].id] == nil { spent += cost[candidates[next.index].id] ?? 0 }
            for i in sum.indices { sum[i] += pool[next.index][i] }
            size += 1
            counts[candidates[next.index].id, default: 0] += 1
            picks.append(candidates[next.index].id)
            if better(next.score, best.score) { best = (counts, next.score, picks) }
        }
        return Choice(counts: best.counts, score: best.score, bestSingleScore: singles[first]!, limited: limited, picks: best.picks)
    }

    /// The blend of `picks` (trial ids in the order selection picked them), scored as `select` scores its
    /// blends, so that a replay ships the recorded blend with the same score instead of selecting again
    /// without the budget, which can take another path. Nil when a pick has no candidate.
    static func replayed(_ picks: [Int], candidates: [(id: Int, margins: [Double])], truth: [Double], metric: Metric, task: TaskKind,
                         outputs: Int, classCount: Int) -> Choice? {
        guard let firstPick = picks.first,
              let blends = Blends(candidates, truth: truth, metric: metric, task: task, outputs: outputs, classCount: classCount),
              let start = candidates.firstIndex(where: { $0.id == firstPick }), var blendScore = blends.singles[start] else { return nil }
        var sum = blends.pool[start]
        var size = 1.0
        var counts = [firstPick: 1]
        for pick in picks.dropFirst() {
            guard let c = candidates.firstIndex(where: { $0.id == pick }),
                  let s = blends.score(Blends.adding(blends.pool[c], to: sum, size: size)) else { return nil }
            blendScore = s
            for i in sum.indices { sum[i] += blends.pool[c][i] }
            size += 1
            counts[pick, default: 0] += 1
        }
        return Choice(counts: counts, score: blendScore, bestSingleScore: blends.singles[blends.first]!, limited: false, picks: picks)
    }

    /// The candidates' margins on the rows every one scored, each alone and scored, shared by `select` and
    /// `replayed` so that both compute a blend's score with the same sums and divisions, to the last bit.
    private struct Blends {
        let pool: [[Double]]
        let singles: [Double?]
        /// The best single candidate.
        let first: Int
        let score: ([Double]) -> Double?
        let better: (Double, Double) -> Bool

        init?(_ candidates: [(id: Int, margins: [Double])], truth: [Double], metric: Metric, task: TaskKind, outputs: Int, classCount: Int) {
            guard let head = candidates.first else { return nil }
            let rows = (0..<truth.count).filter { !head.margins[$0 * outputs].isNaN }
            guard rows.count >= 10 else { return nil }
            let y = rows.map { truth[$0] }
            pool = candidates.map { candidate in rows.flatMap { row in (0..<outputs).map { candidate.margins[row * outputs + $0] } } }
            let score: ([Double]) -> Double? = { blend in
                try? metric.evaluate(truth: y, predictions: ScoreLink.apply(blend, task: task, outputs: outputs), classCount: classCount)
            }
            let better: (Double, Double) -> Bool = { a, b in metric.higherIsBetter ? a > b + 1e-12 : a < b - 1e-12 }
            singles = pool.map(score)
            let scored = singles
            guard let best = scored.indices.filter({ scored[$0] != nil }).min(by: { better(scored[$0]!, scored[$1]!) }) else { return nil }
            (first, self.score, self.better) = (best, score, better)
        }

        /// The mean of a blend of `size` members, summed in `sum`, and one more member.
        static func adding(_ member: [Double], to sum: [Double], size: Double) -> [Double] {
            zip(sum, member).map { ($0 + $1) / (size + 1) }
        }
    }
}
