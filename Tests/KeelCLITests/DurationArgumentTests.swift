import KeelCLI
import Testing

@Suite struct DurationArgumentTests {
    @Test(arguments: [("90s", 90.0), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("250ms", 0.25), ("45", 45), ("1.5m", 90), ("2d", 172_800)])
    func parses(_ text: String, _ seconds: Double) {
        #expect(DurationArgument.parse(text) == seconds)
    }

    @Test(arguments: ["", "m", "5x", "-5", "5 m", "1h-3m", "inf"])
    func rejects(_ text: String) {
        #expect(DurationArgument.parse(text) == nil)
    }

    @Test func printsCompactly() {
        #expect(DurationArgument(seconds: 90).description == "1m30s")
        #expect(DurationArgument(seconds: 3600).description == "1h")
        #expect(DurationArgument(seconds: 0).description == "0s")
    }
}
