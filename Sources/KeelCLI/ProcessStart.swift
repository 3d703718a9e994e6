import Foundation

/// When this process started, on the monotonic clock: a `--time` budget is the command's wall time, so it
/// counts the start-up (loading the binary, parsing flags) before `run()` too.
enum ProcessStart {
    /// The start instant: now less the process's age, which Linux gives in clock ticks (10 ms) since boot.
    /// Elsewhere, or when /proc cannot be read, the first time this is asked.
    static let instant: ContinuousClock.Instant = {
        let now = ContinuousClock.now
        guard let age = age() else { return now }
        return now - .seconds(age)
    }()

    /// Seconds since the process started: uptime less field 22 of /proc/self/stat (`starttime`). At most
    /// two seconds are believed: more means the clocks disagree, and the budget then counts from now.
    static func age() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let uptime = uptimeText.split(separator: " ").first.flatMap({ Double($0) }),
              let close = stat.lastIndex(of: ")") else { return nil }
        // The command name in parentheses may hold spaces; the fields after it are plain.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name come state (field 3) ... starttime (field 22): index 19 here.
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard hertz > 0 else { return nil }
        let age = uptime - ticks / hertz
        return (0...2).contains(age) ? age : nil
    }
}
