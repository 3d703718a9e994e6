import Foundation

/// How much slower this process runs now than when the search began, measured as the search goes.
///
/// Time estimates in a search come from earlier measurements: a trial's fit, the encoding of a model. When
/// other processes start competing for the cores halfway through, those measurements are too optimistic and
/// a budget sized by them is overrun (a 30 s budget took 33 s with three CPU hogs starting 6 s in). A short
/// fixed workload, timed when the search starts and again at each decision that sizes the time left, gives
/// the factor by which everything now takes longer. It is timed over several scheduler periods so that one
/// lucky time slice does not hide a loaded machine.
struct Pace {
    /// Seconds of one probe when the search began (the fastest of three).
    private let reference: Double
    /// When it was last measured, the probes' factor, and the other threads runnable on average.
    private var measured: (at: ContinuousClock.Instant, probed: Double, others: Double)
    /// A cached factor is reused for this long: probing costs about 12 ms of one core.
    static let refreshSeconds = 2.0

    init() {
        reference = max((0..<3).map { _ in Self.probe() }.min() ?? 1e-3, 1e-6)
        measured = (ContinuousClock.now, 1, 0)
    }

    /// The current factor (at least 1) for work on `threads` threads, measured now when `fresh` or when the
    /// last measurement is older than `refreshSeconds`.
    mutating func slowdown(threads: Int = 1, fresh: Bool = false) -> Double {
        let now = ContinuousClock.now
        if fresh || (now - measured.at).seconds >= Self.refreshSeconds {
            // Four probes back to back (about 12 ms when unloaded, longer than a scheduler period), with the
            // run queue read between them. A thread that has just woken gets the core first for a few
            // milliseconds, so probes alone can miss a loaded machine; the run queue does not.
            var probes: [Double] = []
            var queue: [Int] = []
            for _ in 0..<4 {
                if let running = Self.runnableThreads() { queue.append(running) }
                probes.append(Self.probe())
            }
            probes.sort()
            let probed = (probes[1] + probes[2]) / 2 / reference
            // Runnable threads counted while this one reads: the others are the rest.
            let others = queue.isEmpty ? 0 : max(0, Double(queue.reduce(0, +)) / Double(queue.count) - 1)
            measured = (ContinuousClock.now, max(1, probed), others)
        }
        return max(measured.probed, Self.queueSlowdown(others: measured.others, threads: threads))
    }

    /// The slowdown `others` runnable threads cause to work on `threads` threads: all of them share the cores.
    static func queueSlowdown(others: Double, threads: Int) -> Double {
        let cores = Double(max(1, ProcessInfo.processInfo.activeProcessorCount))
        let mine = min(Double(threads), cores)
        return max(1, (others + mine) / cores)
    }

    /// Threads runnable on the machine now, this one included (Linux's `procs_running`; nil elsewhere).
    static func runnableThreads() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("procs_running ") }) else { return nil }
        return Int(line.dropFirst("procs_running ".count))
    }

    /// Seconds of a fixed, cache-resident workload (a dependent chain of integer and floating-point steps
    /// the optimiser cannot remove): about 3 ms on one core of a current machine.
    static func probe() -> Double {
        let start = ContinuousClock.now
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var sum = 0.0
        for _ in 0..<1_500_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            sum += Double(state >> 11) * 0x1p-53
        }
        let seconds = (ContinuousClock.now - start).seconds
        sink = sum
        return seconds
    }

    /// Keeps the probe's result alive, so its loop is not optimised away.
    nonisolated(unsafe) private static var sink = 0.0
}
