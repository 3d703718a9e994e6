import Foundation
import Testing
@testable import KeelSearch
import KeelLearn

@Suite("Pace: time estimates follow the machine's load")
struct PaceTests {
    @Test("the run queue's other threads slow the search's threads by their share of the cores")
    func queueSlowdown() {
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        #expect(Pace.queueSlowdown(others: 0, threads: 1) == 1)
        // Three hogs beside one thread: four runnable threads share the cores.
        #expect(abs(Pace.queueSlowdown(others: 3, threads: 1) - max(1, 4 / cores)) < 1e-12)
        // Two threads of the search feel the same hogs more than one does.
        #expect(Pace.queueSlowdown(others: 3, threads: 2) >= Pace.queueSlowdown(others: 3, threads: 1))
    }

    @Test("an idle machine measures close to the pace it began at")
    func idleProbe() {
        var pace = Pace()
        let factor = pace.slowdown(fresh: true)
        #expect(factor >= 1)
        #expect(Pace.probe() > 0)
    }

    @Test("the refit reserve grows with the slowdown and with the rows the refit sees beyond a fold's")
    func reserveScales() {
        let trial = TrialResult(id: 1, family: "gbdt", summary: "", learner: .linear(LinearParameters()), foldScores: [0.8], mean: 0.8, std: 0,
                                fitSeconds: 4, predictMillisecondsPer1000: 1, bestRounds: [], status: .completed)
        let idle = Budget.refitReserve([trial], metric: .rocAUC, budget: 10, rowsRatio: 1.4, slowdown: 1)
        let loaded = Budget.refitReserve([trial], metric: .rocAUC, budget: 10, rowsRatio: 1.4, slowdown: 2.5)
        #expect(idle > 4 * 1.4)
        #expect(abs(loaded - idle * 2.5) < 1e-9)
        #expect(Budget.refitReserve([trial], metric: .rocAUC, budget: 10, rowsRatio: 2, slowdown: 1) > idle)
        // With nothing measured, a tenth of the budget.
        #expect(Budget.refitReserve([], metric: .rocAUC, budget: 10) == 1)
    }
}
