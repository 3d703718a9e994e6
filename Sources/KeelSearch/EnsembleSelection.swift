import KeelData
import KeelLearn

/// Greedy ensemble selection with replacement (Caruana, Niculescu-Mizil, Crew & Ksikes 2004) on out-of-fold
/// raw margins: start from the best single model, then repeatedly add (again, if it helps) whichever trial
/// most improves the metric of the averaged margins; stop when nothing improves it.
enum EnsembleSelection {
    struct Choice {
        /// Trial id → how many times it was picked.
        var counts: [Int: Int]
        var score: Double
        var bestSingleScore: Double
    }

    static func select(_ candidates: [(id: Int, margins: [Double])], truth: [Double], metric: Metric, task: TaskKind,
                       outputs: Int, classCount: Int, iterations: Int = 25) -> Choice? {
        guard candidates.count >= 2 else { return nil }
        let rows = (0..<truth.count).filter { !candidates[0].margins[$0 * outputs].isNaN }
        guard rows.count >= 10 else { return nil }
        let y = rows.map { truth[$0] }
        func margins(_ c: Int) -> [Double] { rows.flatMap { row in (0..<outputs).map { candidates[c].margins[row * outputs + $0] } } }
        let pool = candidates.indices.map(margins)
        func score(_ blend: [Double]) -> Double? {
            try? metric.evaluate(truth: y, predictions: ScoreLink.apply(blend, task: task, outputs: outputs), classCount: classCount)
        }
        func better(_ a: Double, _ b: Double) -> Bool { metric.higherIsBetter ? a > b + 1e-12 : a < b - 1e-12 }
        let singles = pool.map { score($0) }
        guard let first = singles.indices.filter({ singles[$0] != nil }).min(by: { better(singles[$0]!, singles[$1]!) }) else { return nil }
        var sum = pool[first]
        var counts = [candidates[first].id: 1]
        var size = 1.0
        var current = singles[first]!
        for _ in 1..<iterations {
            var bestNext: (index: Int, score: Double)?
            for c in pool.indices {
                let trial = zip(sum, pool[c]).map { ($0 + $1) / (size + 1) }
                if let s = score(trial), bestNext == nil || better(s, bestNext!.score) { bestNext = (c, s) }
            }
            guard let next = bestNext, better(next.score, current) else { break }
            for i in sum.indices { sum[i] += pool[next.index][i] }
            size += 1
            counts[candidates[next.index].id, default: 0] += 1
            current = next.score
        }
        return Choice(counts: counts, score: current, bestSingleScore: singles[first]!)
    }
}
