import Foundation
import KeelTestSupport
import Testing

/// `keel monitor` on a real dataset with a time order: a model trained on the first half-year of bike
/// rentals, monitored over the following eighteen months.
@Suite(.serialized) struct MonitorCommandTests {
    struct Setup: Sendable {
        var folder: URL
        var early: String
        var later: String
        var model: String
    }

    struct SetupFailure: Error, CustomStringConvertible { var description: String }

    /// Made once; a failure fails each test with its message instead of crashing the test process.
    static let prepared = Result<Setup, any Error> {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-monitor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = try Datasets.named("bike_sharing_hourly").map(\.path) ?? { throw SetupFailure(description: "the bike_sharing_hourly dataset is missing") }()
        let lines = try String(contentsOfFile: source, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
        let header = String(lines[0])
        // Rows are in time order; dteday is an ISO date, so text comparison orders it.
        let early = lines.dropFirst().filter { $0 < "2011-07-01" }, later = lines.dropFirst().filter { $0 >= "2011-07-01" }
        let earlyPath = folder.appendingPathComponent("bikes-2011h1.csv").path, laterPath = folder.appendingPathComponent("bikes-later.csv").path
        try ([header] + early.map(String.init)).joined(separator: "\n").write(toFile: earlyPath, atomically: true, encoding: .utf8)
        try ([header] + later.map(String.init)).joined(separator: "\n").write(toFile: laterPath, atomically: true, encoding: .utf8)
        let model = folder.appendingPathComponent("bikes.keel").path
        let train = try KeelProcess.run(["train", earlyPath, "--target", "cnt", "--trials", "2", "--learner", "gbdt", "--out", model, "--quiet", "--no-registry"])
        guard train.status == 0 else { throw SetupFailure(description: "keel train failed: \(train.stderr)") }
        return Setup(folder: folder, early: earlyPath, later: laterPath, model: model)
    }

    @Test func laterMonthsShowWhichFeaturesDriftedAndWhenPerformanceFell() throws {
        let setup = try Self.prepared.get()
        let result = try KeelProcess.run(["monitor", setup.model, "--current", setup.later, "--time-column", "dteday", "--bucket", "30d", "--json"])
        #expect(result.status == 3, "an alert is exit code 3: \(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let drift = try #require(report["dataDrift"] as? [String: Any])
        let features = try #require(drift["features"] as? [[String: Any]])
        let drifted = Set(features.filter { $0["drifted"] as? Bool == true }.compactMap { $0["name"] as? String })
        // Summer and autumn are warmer than January to June, and other months and seasons. (`yr` is constant in
        // the training half-year, so the model does not use it.)
        #expect(drifted.isSuperset(of: ["temp", "atemp", "season", "mnth"]), "\(drifted)")
        #expect(!drifted.contains("weekday") && !drifted.contains("hr"), "the week and the day do not change: \(drifted)")
        // When: the timeline says from which month each feature drifted.
        let timeline = try #require(report["timeline"] as? [String: Any])
        let names = try #require(timeline["features"] as? [String])
        let flags = try #require(timeline["drifted"] as? [[Bool]])
        let windowStarts = try #require(timeline["windows"] as? [Double])
        #expect(windowStarts.count >= 15)
        let temp = flags[try #require(names.firstIndex(of: "temp"))]
        #expect(temp.prefix(3).contains(true), "the summer months are already warmer: \(temp)")
        #expect(!flags[try #require(names.firstIndex(of: "weekday"))].contains(true))
        let concept = try #require(report["conceptDrift"] as? [String: Any])
        let windows = try #require(concept["windows"] as? [[String: Any]])
        #expect(windows.count >= 15, "monthly windows over eighteen months")
        #expect(windows.contains { $0["degraded"] as? Bool == true }, "rentals grew in 2012, beyond what the first half-year taught")
        // The thresholds are the user's: set out of reach, the same data raises no data-drift alert.
        let lenient = try KeelProcess.run(["monitor", setup.model, "--current", setup.later, "--json", "--psi", "100", "--wasserstein", "100",
                                           "--jensen-shannon", "100", "--unseen-rate", "2", "--missing-rise", "2"])
        let lenientReport = try #require(try JSONSerialization.jsonObject(with: Data(lenient.stdout.utf8)) as? [String: Any])
        #expect(((lenientReport["dataDrift"] as? [String: Any])?["alerts"] as? [String])?.isEmpty == true)
        let text = try KeelProcess.run(["monitor", setup.model, "--current", setup.later, "--time-column", "dteday", "--bucket", "30d"])
        #expect(text.status == 3 && text.stdout.contains("alerts:") && text.stdout.contains("temp:"))
    }

    @Test func theTrainingPeriodItselfRaisesNoDataDriftAlert() throws {
        let setup = try Self.prepared.get()
        let result = try KeelProcess.run(["monitor", setup.model, "--current", setup.early, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let alerts = try #require((report["dataDrift"] as? [String: Any])?["alerts"] as? [String])
        #expect(alerts.isEmpty, "\(alerts)")
        let missing = try KeelProcess.run(["monitor", setup.model, "--current", setup.folder.appendingPathComponent("nope.csv").path])
        #expect(missing.status == 1 && missing.stderr.contains("nope.csv"))
    }

    @Test func htmlReportRendersInHeadlessChromium() throws {
        let setup = try Self.prepared.get()
        let html = setup.folder.appendingPathComponent("monitor.html").path
        let result = try KeelProcess.run(["monitor", setup.model, "--current", setup.later, "--time-column", "dteday", "--bucket", "30d", "--html", html])
        #expect(result.status == 3)
        let ink = try HeadlessBrowser.render(html, artifact: "monitor-report")
        #expect(ink.drawn > 0.01 && ink.colours > 20, "\(ink)")
        let dom = try HeadlessBrowser.dom(html)
        #expect(dom.contains("aria-label=\"PSI per feature\"") && dom.contains("aria-label=\"performance over time\""))
        #expect(dom.components(separatedBy: "<svg").count - 1 >= 8, "PSI chart, distributions and performance")
        #expect(!dom.contains("<script"))
    }
}
