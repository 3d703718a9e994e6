import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Threads of their own, at a lower scheduling priority, for the server's heavy work: explanations and
/// model loading. On a small machine a busy thread beside the event loops takes their core for a whole time
/// slice, and a prediction waits behind it; at nice 10 the scheduler gives the event loops about nine tenths
/// of a contended core, so predictions keep their latency while the heavy work still uses idle cores.
/// (A thread may lower its own priority without privileges, never raise it back: hence dedicated threads,
/// not the shared dispatch pool.) As a task executor, the workers also run async work that must stay off the
/// event loops (`withTaskExecutorPreference`): a registry's calls, which may block on a database.
final class LowPriorityWorkers: TaskExecutor, Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var stopped = false
    }

    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)

    /// Nice value of the workers: about 10% of a core's share against nice-0 threads.
    static let niceness: Int32 = 10

    init(threads: Int, name: String) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in
                Self.lowerPriority()
                while let job = next() { job() }
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Queues `job` for the next free worker.
    func submit(_ job: @escaping @Sendable () -> Void) {
        state.withLock { $0.jobs.append(job) }
        ready.signal()
    }

    private func next() -> (@Sendable () -> Void)? {
        ready.wait()
        return state.withLock { state in state.jobs.isEmpty ? nil : state.jobs.removeFirst() }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        submit { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs `work` on a worker and returns its result to the awaiting task.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func lowerPriority() {
        #if os(Linux)
        // On Linux the nice value belongs to each thread, and `who` 0 is the calling one.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
    }

    /// Model loading, registry reads and audit writes: one worker, so reloads happen one at a time.
    static let loader = LowPriorityWorkers(threads: 1, name: "keel-loader")
}
