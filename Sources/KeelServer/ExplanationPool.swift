import Dispatch
import Foundation
import Synchronization

/// How many explanations run at once, how many may wait, how many rows and how long each may take.
public struct ExplanationLimits: Sendable, Equatable {
    /// Explanations computed at once (default: half the cores, at least one, so predictions keep a core).
    public var workers = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
    /// Explanations waiting for a worker before more are refused with 503.
    public var queueLimit = 8
    /// Rows in one explanation request (`--max-explain-rows`).
    public var maxRows = 200
    /// Seconds one explanation may take, waiting included (`--explain-timeout`).
    public var timeLimitSeconds = 10.0

    public init() {}
}

/// Where explanations run: on low-priority threads of their own, never on the event loops that answer
/// predictions.
///
/// At most `workers` explanations run at once and `queueLimit` more wait; past that a request gets 503 with
/// `Retry-After` rather than a place in an unbounded queue. Each runs in chunks of rows and checks between
/// chunks whether it should stop: its time limit passed, its client went away (the request's task was
/// cancelled), or the server is shutting down. A stopped explanation frees its worker within one chunk.
final class ExplanationPool: Sendable {
    typealias Settings = ExplanationLimits

    /// Why an explanation stopped early.
    enum Stop: Error, Equatable { case timeout, cancelled, shuttingDown }

    let settings: Settings
    private let admitted = Mutex(0)
    private let shuttingDown = Flag()
    private let workers: LowPriorityWorkers

    init(_ settings: Settings = Settings()) {
        self.settings = settings
        workers = LowPriorityWorkers(threads: settings.workers, name: "keel-explain")
    }

    /// Explanations admitted and not yet finished (running or waiting).
    var inFlight: Int { admitted.withLock { $0 } }

    /// Stops every running and waiting explanation at its next check; new ones are refused.
    func shutDown() { shuttingDown.set() }

    /// Runs `work` on a worker when one is free. `work` receives a check to call between chunks of work: it
    /// throws `Stop` when the explanation must end. Throws `APIError` 503 when the pool is full.
    func run<T: Sendable>(clientGone: @escaping @Sendable () -> Bool = { false },
                          _ work: @escaping @Sendable (_ check: @Sendable () throws -> Void) throws -> T) async throws -> T {
        guard !shuttingDown.isSet else {
            throw APIError(.serviceUnavailable, "shutting_down", "the server is shutting down")
        }
        let capacity = settings.workers + settings.queueLimit
        let entered = admitted.withLock { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
        guard entered else {
            ServerMetrics.shared.explanation("busy")
            var busy = APIError(.serviceUnavailable, "explanations_busy",
                                "\(settings.workers) explanations are running and \(settings.queueLimit) waiting; retry shortly (predictions are not affected)")
            busy.retryAfterSeconds = 1
            throw busy
        }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(settings.timeLimitSeconds * 1e9)
        let cancelled = Flag()
        let shuttingDown = self.shuttingDown
        let check: @Sendable () throws -> Void = {
            if shuttingDown.isSet { throw Stop.shuttingDown }
            if cancelled.isSet || clientGone() { throw Stop.cancelled }
            if DispatchTime.now().uptimeNanoseconds > deadline { throw Stop.timeout }
        }
        defer { admitted.withLock { $0 -= 1 } }
        return try await withTaskCancellationHandler {
            try await workers.run { try check(); return try work(check) }
        } onCancel: {
            cancelled.set()
        }
    }
}

/// A flag set from one thread and read from another.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
