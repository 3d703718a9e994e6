import Foundation

/// When this process started, on the clock the search's deadlines use.
///
/// A time budget covers the whole command, including whatever passes before `run()` (process start, dynamic
/// libraries, argument parsing): counting from the process's start leaves the search only what is really
/// left. (Prompted by a bench run where the command took 69 s wall but 47.7 s by `run()`'s clock; a cold
/// start after dropping the page cache takes 0.23 s, so that gap was most likely the machine itself.)
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
