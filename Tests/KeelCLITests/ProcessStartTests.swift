@testable import KeelCLI
import Testing

@Suite struct ProcessStartTests {
    @Test func ageFromProcStatAndUptime() {
        // A command name with spaces and a parenthesis must not shift the fields; start time is field 22.
        let stat = "4242 (keel (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 3 0 123400 1000000 500 18446744073709551615"
        #expect(ProcessStart.age(stat: stat, uptime: "1250.50 2400.00\n", ticksPerSecond: 100) == 1250.5 - 1234)
        #expect(ProcessStart.age(stat: "garbage", uptime: "1250.50 2400.00", ticksPerSecond: 100) == nil)
        #expect(ProcessStart.age(stat: stat, uptime: "1000.0 1.0", ticksPerSecond: 100) == nil, "a start after now is not believed")
    }

    @Test func thisProcessStartedBeforeNow() {
        let now = ContinuousClock.now
        let start = ProcessStart.instant(now: now)
        #expect(start <= now && now - start < .seconds(24 * 3600))
    }
}
