import Foundation
import KeelLearn

/// The memory a search may use, and what its parts are expected to take, so it degrades (fewer folds,
/// trials left out) instead of dying of out-of-memory. Estimates are upper bounds of the large arrays each
/// part allocates; the process's own baseline (runtime, code, the loaded table) comes on top.
public struct MemoryBudget: Sendable, Equatable {
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    /// 70% of the machine's memory (of the cgroup limit, when a container sets a lower one).
    public static var standard: MemoryBudget {
        MemoryBudget(bytes: Int(Double(availableBytes) * 0.7))
    }

    static var availableBytes: Int {
        let physical = Int(ProcessInfo.processInfo.physicalMemory)
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0, limit < physical {
                return limit
            }
        }
        return physical
    }

    /// What one fitted fold holds: train, validation, and the inner early-stopping split (features as Double),
    /// and the training rows binned once for its trials.
    static func foldBytes(_ fold: FoldData) -> Int {
        (fold.train.values.count + fold.valid.values.count + fold.stopping.train.values.count + fold.stopping.validation.features.values.count) * 8
            + FoldBins.bytes(trainCells: fold.train.values.count, stoppingCells: fold.stopping.train.values.count)
    }

    /// The largest arrays `learner` allocates when fitting `rows` rows of `features` features (its family's estimate).
    static func trialBytes(_ learner: Learner, rows: Int, features: Int, outputs: Int) -> Int {
        learner.family.memoryEstimate(learner, shape: DataShape(rows: rows, features: features, task: outputs > 1 ? .multiclass : .binary, outputs: outputs))
    }

    /// Sizes as people read them: 512 KB, 3.4 MB, 1.2 GB.
    public static func megabytes(_ bytes: Int) -> String {
        let value = Double(bytes)
        if value < 1_048_576 { return String(format: "%.0f KB", value / 1024) }
        if value < 10 * 1_048_576 { return String(format: "%.1f MB", value / 1_048_576) }
        if value < 1_073_741_824 { return String(format: "%.0f MB", value / 1_048_576) }
        return String(format: "%.1f GB", value / 1_073_741_824)
    }
}
