import Foundation
import KeelData
import KeelMonitor
import Testing

/// The concept-drift detectors on seeded synthetic error streams: an abrupt rise in the error rate and a
/// gradual one, 100 runs each. Detection delay and false alarms are measured, printed and bounded.
@Suite struct StreamDetectorTests {
    static let changeAt = 2000
    static let length = 4000

    /// Errors (0/1) at rate 0.1, then 0.3: at once (abrupt) or over 1,000 values (gradual).
    static func stream(seed: UInt64, gradual: Bool) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<length).map { t in
            let rate: Double
            if t < changeAt { rate = 0.1 } else if gradual { rate = 0.1 + 0.2 * min(1, Double(t - changeAt) / 1000) } else { rate = 0.3 }
            return generator.nextUnit() < rate ? 1 : 0
        }
    }

    struct Outcome: CustomStringConvertible {
        var name: String
        var detected = 0
        var falseAlarmRuns = 0
        var falseAlarms = 0
        var delays: [Int] = []

        var meanDelay: Double { delays.isEmpty ? .nan : Double(delays.reduce(0, +)) / Double(delays.count) }
        var medianDelay: Int { delays.isEmpty ? -1 : delays.sorted()[delays.count / 2] }
        var description: String {
            "\(name): detected \(detected)/100, delay mean \(String(format: "%.0f", meanDelay)) median \(medianDelay), runs with a false alarm \(falseAlarmRuns)/100 (\(falseAlarms) alarms in 200,000 stable values)"
        }
    }

    static func evaluate<D: StreamDetector>(_ name: String, gradual: Bool, make: () -> D) -> Outcome {
        var outcome = Outcome(name: name)
        for run in 0..<100 {
            var detector = make()
            var falseAlarm = false
            var found: Int?
            for (t, value) in stream(seed: UInt64(run) &+ (gradual ? 10_000 : 0), gradual: gradual).enumerated() {
                guard detector.update(value) == .drift else { continue }
                if t < changeAt {
                    falseAlarm = true
                    outcome.falseAlarms += 1
                } else if found == nil {
                    found = t - changeAt
                }
            }
            if falseAlarm { outcome.falseAlarmRuns += 1 }
            if let found {
                outcome.detected += 1
                outcome.delays.append(found)
            }
        }
        return outcome
    }

    @Test func detectorsFindAbruptAndGradualDriftWithFewFalseAlarms() {
        var lines: [String] = []
        for gradual in [false, true] {
            let kind = gradual ? "gradual" : "abrupt"
            // Each with the false-alarm bound its design allows (see DDM's note).
            let outcomes = [
                (Self.evaluate("ADWIN \(kind)", gradual: gradual) { ADWIN() }, 3),
                (Self.evaluate("Page-Hinkley \(kind)", gradual: gradual) { PageHinkley() }, 15),
                (Self.evaluate("DDM \(kind)", gradual: gradual) { DDM() }, 25),
            ]
            for (outcome, falseAlarmBound) in outcomes {
                lines.append(outcome.description)
                #expect(outcome.detected >= 95, "\(outcome)")
                #expect(outcome.falseAlarmRuns <= falseAlarmBound, "\(outcome)")
                #expect(outcome.medianDelay < (gradual ? 900 : 400), "\(outcome)")
            }
        }
        print(lines.joined(separator: "\n"))
    }

    @Test func adwinKeepsAStableWindowAndShrinksItAfterAChange() {
        var detector = ADWIN()
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<5000 { _ = detector.update(generator.nextUnit() < 0.2 ? 1 : 0) }
        #expect(detector.windowSize > 4000, "no change: the window keeps (nearly) everything")
        #expect(abs(detector.windowMean - 0.2) < 0.03)
        for _ in 0..<1000 { _ = detector.update(generator.nextUnit() < 0.6 ? 1 : 0) }
        #expect(detector.windowSize < 1500, "after the change the window holds mostly the new regime")
        #expect(abs(detector.windowMean - 0.6) < 0.08)
    }
}
