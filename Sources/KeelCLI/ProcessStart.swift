import Foundation

/// When this process started, on the clock the search's deadlines use.
///
/// A time budget covers the whole command, and some of it can pass before `main` runs: on a machine whose
/// page cache another job has just emptied, loading the binary and the Swift libraries took 21 s of a
/// 60 s budget (the bench's german_credit run after AutoGluon). Counting from the process's start instead
/// of from `run()` leaves the search only what is really left.
enum ProcessStart {
    /// The process's start; `now` when the system does not say (not Linux, or /proc unreadable).
    static func instant(now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let age = age(stat: stat, uptime: uptime, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK)))) else { return now }
        return now - .seconds(age)
    }

    /// Seconds since the process started, from /proc/self/stat (field 22, start time in clock ticks after
    /// boot; the command name before it may hold spaces and parentheses) and /proc/uptime (seconds after boot).
    static func age(stat: String, uptime: String, ticksPerSecond: Double) -> Double? {
        guard ticksPerSecond > 0, let close = stat.lastIndex(of: ")"),
              let booted = uptime.split(separator: " ").first.flatMap({ Double($0) }) else { return nil }
        // After the name: field 3 (state) onwards, so the start time (field 22) is the 20th.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 20, let ticks = Double(fields[19]) else { return nil }
        let age = booted - ticks / ticksPerSecond
        return age >= 0 ? age : nil
    }
}
