import ArgumentParser
import Foundation
import KeelData
import KeelLifecycle
import KeelMonitor

/// `keel drift --reference A.csv --current B.csv`: data drift between two files, no model needed.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare two data files column by column: which columns drifted, by how much, how surely.",
        discussion: """
        The same statistics and decision rule as `keel monitor` (effect size decides, a corrected test supports), \
        with the reference profiled from the first file. Exit code 3 when a column drifted.
        """
    )

    @Option(help: ArgumentHelp("The reference data (CSV or Parquet).", valueName: "file"))
    var reference: String

    @Option(help: ArgumentHelp("The current data (CSV or Parquet).", valueName: "file"))
    var current: String

    @Option(help: ArgumentHelp("Only these columns (repeatable; default: every column of the reference).", valueName: "column"))
    var column: [String] = []

    @Option(help: ArgumentHelp("Read this column as text (repeatable).", valueName: "column"))
    var categorical: [String] = []

    @OptionGroup var output: DriftOutputOptions

    func run() async throws {
        var options = CSVOptions()
        options.stringColumns = Set(categorical)
        let referenceFrame = try CSVReader.read(path: reference, options: options)
        let currentFrame = try CSVReader.read(path: current, options: options)
        let columns = column.isEmpty ? referenceFrame.columnNames : column
        if let unknown = columns.first(where: { referenceFrame[$0] == nil }) {
            throw ValidationError("\(reference) has no column '\(unknown)'")
        }
        let thresholds = output.thresholds
        let profile = ReferenceProfile.make(frame: referenceFrame, features: columns, seed: 1)
        let drift = DataDrift.analyse(reference: profile, current: currentFrame, thresholds: thresholds)
        let report = MonitorReport(model: "data drift: \(reference)", data: current, createdAt: ISO8601DateFormatter().string(from: Date()),
                                   dataDrift: drift, conceptDrift: nil, bias: [])
        if let html = output.html { try AtomicFile.write(report.html(), to: html) }
        print(output.json ? try JSONOutput.string(drift) : MonitorCommand.text(report))
        if !drift.alerts.isEmpty { throw CheckFailed(message: "\(drift.driftedFeatures.count) of \(drift.features.count) columns drifted") }
    }
}

/// The drift thresholds and report outputs `keel monitor` and `keel drift` share.
struct DriftOutputOptions: ParsableArguments {
    @Option(help: "PSI at which a feature counts as drifted (default 0.2).")
    var psi: Double?

    @Option(help: "Adjusted p-value that must support an effect (default 0.01).")
    var alpha: Double?

    @Option(help: "Wasserstein distance, in reference standard deviations, at which a numeric feature drifts (default 0.1).")
    var wasserstein: Double?

    @Option(help: "Jensen-Shannon distance at which a categorical feature drifts (default 0.1).")
    var jensenShannon: Double?

    @Option(help: "Rise in the missing rate that is an alert (default 0.1, i.e. 10 points).")
    var missingRise: Double?

    @Option(help: "Share of new levels or out-of-range values that is an alert (default 0.05).")
    var unseenRate: Double?

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Write a self-contained HTML report.", valueName: "file"))
    var html: String?

    func validate() throws {
        if let psi, !(psi > 0) { throw ValidationError("--psi must be positive") }
        if let alpha, !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must be between 0 and 1") }
        for (flag, value) in [("--wasserstein", wasserstein), ("--jensen-shannon", jensenShannon), ("--missing-rise", missingRise), ("--unseen-rate", unseenRate)] {
            if let value, !(value > 0) { throw ValidationError("\(flag) must be positive") }
        }
    }

    var thresholds: DriftThresholds {
        var thresholds = DriftThresholds()
        if let psi { thresholds.psi = psi }
        if let alpha { thresholds.alpha = alpha }
        if let wasserstein { thresholds.normalizedWasserstein = wasserstein }
        if let jensenShannon { thresholds.jensenShannon = jensenShannon }
        if let missingRise { thresholds.missingRise = missingRise }
        if let unseenRate { thresholds.unseenRate = unseenRate }
        return thresholds
    }
}
