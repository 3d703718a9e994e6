import Foundation
import KeelData
import KeelMonitor
import KeelTestSupport
import Testing

/// Drift decisions on real data: no false alarms between random halves of a large dataset, real shifts
/// found between periods, and the classic failure of p-values alone shown and avoided.
@Suite struct DataDriftTests {
    static func airline() throws -> Frame {
        let entry = try #require(Datasets.named("airline_delay_houston_2011"), "the shared datasets are missing")
        var options = CSVOptions()
        options.stringColumns = Set(entry.stringColumns)
        return try CSVReader.read(path: entry.path, options: options)
    }

    static let features = ["DayOfWeek", "DepTime", "UniqueCarrier", "FlightNum", "TailNum", "Dest", "Distance"]

    @Test func randomHalvesOfALargeDatasetFlagNoFeature() throws {
        let frame = try Self.airline()
        #expect(frame.rowCount > 200_000)
        var generator = SeededGenerator(seed: 7)
        var rows = Array(0..<frame.rowCount)
        rows.shuffle(using: &generator)
        let half = rows.count / 2
        let a = frame.selecting(rows: rows[..<half].sorted()), b = frame.selecting(rows: rows[half...].sorted())
        let reference = ReferenceProfile.make(frame: a, features: Self.features, seed: 1)
        let report = DataDrift.analyse(reference: reference, current: b)
        #expect(report.features.count == Self.features.count)
        #expect(report.driftedFeatures.isEmpty, "\(report.alerts)")
        // Sampling noise only: PSI far below the 0.2 threshold (TailNum, with thousands of levels, is the noisiest at ~0.03).
        #expect(report.features.allSatisfy { $0.psi < 0.05 }, "\(report.features.map { ($0.name, $0.psi) })")
    }

    @Test func periodsOfTheSameDataShowTheShiftsThatAreThereAndOnlyThose() throws {
        let frame = try Self.airline()
        guard case .datetime(let dates) = frame["date"]!.values else { Issue.record("date is not a datetime column"); return }
        let january = (0..<frame.rowCount).filter { dates[$0] < 1_296_518_400 }            // before 2011-02-01
        let december = (0..<frame.rowCount).filter { dates[$0] >= 1_322_697_600 }          // from 2011-12-01
        let reference = ReferenceProfile.make(frame: frame.selecting(rows: january), features: Self.features, seed: 1)
        let report = DataDrift.analyse(reference: reference, current: frame.selecting(rows: december))
        // On ~18,000 rows a side nearly every p-value is tiny: a p-value-only rule would flag most features.
        let significant = report.features.filter { ($0.adjustedPValue ?? 1) < 0.01 }
        #expect(significant.count >= 5, "\(report.features.map { ($0.name, $0.adjustedPValue ?? 1) })")
        // Effect sizes decide: schedules (flight numbers, tails) change over a year, the day of the week does not.
        let drifted = Set(report.driftedFeatures.map(\.name))
        #expect(drifted.count < significant.count, "effect sizes flag fewer features than p-values: \(drifted)")
        #expect(!drifted.contains("DayOfWeek"))
        #expect(drifted.contains("TailNum") || drifted.contains("FlightNum"), "\(drifted)")
    }

    /// A quarter missing, a tenth far outside the training range, the rest as in training.
    static func shiftedValue(_ row: Int) -> Double {
        if row % 4 == 0 { return .nan }
        return row % 10 == 1 ? 500 : Double(row % 100)
    }

    @Test func missingSpikesUnseenLevelsAndOutOfRangeValuesAreAlerts() throws {
        let reference = ReferenceProfile.make(frame: try Frame(columns: [
            Column(name: "x", values: .numeric((0..<1000).map { Double($0 % 100) })),
            Column(name: "c", values: .categorical(EncodedStrings(codes: (0..<1000).map { UInt32($0 % 3) }, levels: ["a", "b", "c"]))),
        ]), features: ["x", "c"], seed: 1)
        let current = try Frame(columns: [
            Column(name: "x", values: .numeric((0..<500).map(Self.shiftedValue))),
            Column(name: "c", values: .categorical(EncodedStrings(codes: (0..<500).map { UInt32($0 % 5) }, levels: ["a", "b", "c", "d", "e"]))),
        ])
        let report = DataDrift.analyse(reference: reference, current: current)
        let x = try #require(report.features.first { $0.name == "x" }), c = try #require(report.features.first { $0.name == "c" })
        #expect(x.reasons.contains { $0.contains("missing values rose") })
        #expect(x.reasons.contains { $0.contains("outside the training range") })
        #expect(c.reasons.contains { $0.contains("unseen levels") })
        #expect(abs(c.unseenRate - 0.4) < 1e-9)
        let absent = DataDrift.analyse(reference: reference, current: try Frame(columns: [current["x"]!]))
        #expect(absent.features.first { $0.name == "c" }?.reasons == ["missing from the current data"])
    }

    @Test func biasAuditComputesTheStandardMeasures() {
        // Group a: 100 rows, 50 selected; 40 positives of which 30 selected. Group b: 100 rows, 20 selected;
        // 40 positives of which 10 selected.
        var groups: [String?] = [], predicted: [Bool] = [], actual: [Bool] = []
        for row in 0..<100 {
            groups.append("a"); actual.append(row < 40); predicted.append(row < 30 || (row >= 40 && row < 60))
        }
        for row in 0..<100 {
            groups.append("b"); actual.append(row < 40); predicted.append(row < 10 || (row >= 40 && row < 50))
        }
        let audit = BiasAudit.audit(attribute: "group", positiveClass: "yes", groups: groups, predicted: predicted, actual: actual)
        #expect(audit.groups.map(\.selectionRate) == [0.5, 0.2])
        #expect(abs(audit.demographicParityDifference - 0.3) < 1e-12)
        #expect(abs(audit.disparateImpactRatio - 0.4) < 1e-12)
        #expect(abs(audit.equalOpportunityDifference! - 0.5) < 1e-12)
        #expect(audit.groups[0].falsePositiveRate == 20.0 / 60 && audit.groups[1].falsePositiveRate == 10.0 / 60)
        #expect(audit.violations.count == 3)
    }
}
