import Dispatch

/// Runs independent pieces of work on all cores. Callers give each piece its own output slots, so results
/// never depend on scheduling and are identical for any thread count.
public enum Parallel {
    /// The cores used: all online ones, or `KEEL_THREADS` when set (benchmarks compare at equal thread
    /// counts), or `threadLimit` within a task that sets it.
    public static var coreCount: Int { threadLimit.map { max(1, $0) } ?? configuredCores }

    /// The thread count for work started from this task (work split from it on other threads uses the
    /// configured count): how tests fit the same model on one thread and on several in one process.
    @TaskLocal public static var threadLimit: Int?

    private static let configuredCores: Int = {
        if let text = getenv("KEEL_THREADS").map({ String(cString: $0) }), let threads = Int(text), threads >= 1 { return threads }
        return max(1, System.activeProcessorCount)
    }()

    /// Calls `body(i)` for every `i` in `0..<count`, concurrently when `count > 1`.
    ///
    /// The one unchecked spot of the learners' concurrency: `body` is treated as `@Sendable`. Every caller
    /// reads shared inputs only and writes to slots that belong to its own `i`, which makes that sound.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let work = unsafeBitCast(escapable, to: (@Sendable (Int) -> Void).self)
            DispatchQueue.concurrentPerform(iterations: count, execute: work)
        }
    }

    /// Splits `0..<total` into at most `coreCount` contiguous ranges of at least `minimum` items.
    public static func chunks(_ total: Int, minimum: Int = 1) -> [Range<Int>] {
        let count = max(1, min(coreCount, total / max(minimum, 1)))
        let size = (total + count - 1) / count
        return stride(from: 0, to: total, by: max(size, 1)).map { $0..<min($0 + size, total) }
    }
}

/// A mutable buffer that concurrent workers may write to, each in slots no other worker touches.
public struct SharedBuffer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>

    public init(base: UnsafeMutablePointer<Element>) { self.base = base }

    public subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

enum System {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
