#if canImport(Glibc)
import Glibc
#endif
import KeelLearn

/// What a running search reports, for progress displays and logs.
public enum SearchEvent: Sendable {
    case plan(String)
    case trialStarted(id: Int, family: String, summary: String)
    case trialFinished(TrialResult, best: TrialResult?, elapsed: Double)
    case stopping(reason: String)
    case refitting(String)
}

/// A flag another thread (a signal handler) sets to end the search early; the search finishes the trial
/// under way, then refits and ships the best model so far.
public final class StopRequest: @unchecked Sendable {
    private let lock = FlagLock()
    private var requested = false

    public init() {}

    public func request() { lock.locked { requested = true } }
    public var isRequested: Bool { lock.locked { requested } }
}

/// A pthread mutex in a class, enough for a flag (Foundation-free, like the rest of the search core).
final class FlagLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}

