import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelLifecycle
import KeelMonitor
import KeelRegistry

/// `keel monitor MODEL --current DATA.csv`: drift, performance and bias against the model's reference.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Compare current data with a model's training reference: data drift, concept drift, bias.",
        discussion: """
        Data drift is decided per feature by effect size (PSI, Wasserstein in standard deviations, Jensen-Shannon) \
        supported by a test (Kolmogorov-Smirnov or chi-square) after a false-discovery-rate correction, so large \
        samples do not flag every feature. With the target in the data, performance per time window is compared \
        with the holdout score and ADWIN, Page-Hinkley and DDM watch the error stream. Protected columns of binary \
        models get a bias audit. Exit code 3 when anything raises an alert.
        """
    )

    @Argument(help: "A model file, or a registered model: NAME, NAME@VERSION or NAME@production.")
    var model: String

    @Option(help: ArgumentHelp("The current data (CSV, optionally .gz, or Parquet).", valueName: "file"))
    var current: String?

    @Flag(help: "Monitor the predictions the server logged for this registered model (with feedback labels as the target).")
    var fromLog = false

    @Option(help: ArgumentHelp("With --from-log: how far back, e.g. 24h, 7d (default 24h).", valueName: "duration"))
    var since: DurationArgument?

    @Flag(help: "With --from-log: count labels made by reviewing flagged predictions too (by default only observed outcomes; review labels are a biased sample).")
    var useReviewLabels = false

    @Option(help: ArgumentHelp("Leave a feature out of the drift analysis (repeatable), e.g. one the log stores hashed.", valueName: "column"))
    var ignore: [String] = []

    @Option(help: ArgumentHelp("A column of dates that orders the rows for performance over time (default: the schema's time column).", valueName: "column"))
    var timeColumn: String?

    @Option(help: ArgumentHelp("Performance window length, e.g. 1d, 7d (default: ten equal windows).", valueName: "duration"))
    var bucket: DurationArgument?

    @Option(help: ArgumentHelp("A protected attribute to audit for bias (repeatable; default: the schema's protected columns).", valueName: "column"))
    var protected: [String] = []

    @Option(help: "How much worse than the holdout score a window may be, relative to it (default 0.05: 5%).")
    var tolerance: Double = 0.05

    @OptionGroup var output: DriftOutputOptions

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var keys: ArtifactReadOptions

    @OptionGroup var piiKey: PIIKeyOptions

    func validate() throws {
        if fromLog == (current != nil) { throw ValidationError("give --current DATA.csv or --from-log, one of them") }
        if since != nil && !fromLog { throw ValidationError("--since goes with --from-log") }
        if !(tolerance >= 0) { throw ValidationError("--tolerance must not be negative") }
    }

    func run() async throws {
        var trained = try Artifact.read(from: try await registry.modelPath(model), options: try keys.readOptions()).model
        let frame: Frame
        let dataName: String
        var timeColumn = self.timeColumn
        if fromLog {
            (frame, dataName) = try await loggedData(trained)
            timeColumn = timeColumn ?? LoggedFrame.timeColumn
            // Fields the log leaves out are not drift; they are simply not there.
            let absent = trained.schema.featureNames.filter { frame[$0] == nil }
            if !absent.isEmpty { Terminal.progress("note: not in the prediction log, so not monitored: \(absent.joined(separator: ", "))") }
            trained.profile?.columns.removeAll { absent.contains($0.name) }
        } else {
            let path = current ?? ""
            var options = CSVOptions()
            options.stringColumns = Set(trained.predictor.schema.textColumns ?? [])
            // The model's privacy rules first: the reference profile holds only values after them.
            let read = try CSVReader.read(path: path, options: options)
            let raw = try piiKey.protect(read, schema: trained.schema)
            // Typed as in training where every value fits; otherwise as read (drift then shows the change of kind).
            frame = (try? raw.conforming(to: Self.presentColumns(of: trained.schema, in: raw))) ?? raw
            dataName = path
        }
        if let unknown = ignore.first(where: { trained.schema[$0] == nil }) {
            throw ValidationError("--ignore \(unknown): the model has no such column")
        }
        trained.profile?.columns.removeAll { ignore.contains($0.name) }
        var settings = MonitorSettings()
        settings.thresholds = output.thresholds
        settings.timeColumn = timeColumn
        settings.bucketSeconds = bucket?.seconds
        settings.tolerance = tolerance
        if !protected.isEmpty { settings.protected = protected }
        let report = try Monitor.run(model: trained, data: frame, modelName: model, dataName: dataName,
                                     createdAt: ISO8601DateFormatter().string(from: Date()), settings: settings)
        if let html = output.html { try AtomicFile.write(report.html(), to: html) }
        print(output.json ? try JSONOutput.string(report) : Self.text(report))
        if !report.alerts.isEmpty {
            throw CheckFailed(message: "\(report.alerts.count) monitoring alert\(report.alerts.count == 1 ? "" : "s") for \(model) on \(dataName)")
        }
    }

    /// The logged predictions of the registered model named by `model` over the last `since`.
    private func loggedData(_ trained: TrainedModel) async throws -> (Frame, String) {
        let schema = trained.schema
        guard let reference = ModelReference(model) else { throw ValidationError("--from-log needs a registered model name, not '\(model)'") }
        let store = try await registry.open()
        let window = since?.seconds ?? 86_400
        // Rows logged by versions under other privacy rules hold other values: not this model's inputs.
        let log = try await store.predictionLog(model: reference.name, since: Date().timeIntervalSince1970 - window)
        let everything = try await Retraining.underRules(of: trained, log,
                                                   name: reference.name, store: store, readOptions: try keys.readOptions()) { Terminal.progress("note: \($0)") }
        let logged = everything.labels(includingReview: useReviewLabels)
        guard !logged.isEmpty else {
            throw ValidationError("no predictions of \(reference.name) were logged in the last \(since?.description ?? "24h") (serve with --log-predictions)")
        }
        let labelled = logged.filter { $0.label != nil }.count
        let sources = everything.labelCounts
        let reviews = (sources[.reviewConfirm] ?? 0) + (sources[.reviewOverride] ?? 0)
        Terminal.progress("\(logged.count) logged predictions of \(reference.name), \(labelled) with feedback labels (\(sources[.observed] ?? 0) observed"
            + (useReviewLabels ? ", \(reviews) from reviews)" : reviews > 0 ? "; \(reviews) from reviews left out: --use-review-labels)" : ")"))
        if useReviewLabels, reviews > 0 { Terminal.progress("caveat: \(Retraining.selectiveLabelsCaveat)") }
        let labels = "labels: \(sources[.observed] ?? 0) observed" + (useReviewLabels ? " and \(reviews) from reviews (selective labels: they exist only where a humility rule flagged the model)"
                                                                   : reviews > 0 ? ", \(reviews) from reviews left out" : "")
        return (try LoggedFrame.make(logged, schema: schema), "prediction log of \(reference.name), last \(since?.description ?? "24h"); \(labels)")
    }

    /// The model's schema restricted to the columns the current file has (monitoring data may lack some).
    static func presentColumns(of schema: Schema, in frame: Frame) -> Schema {
        var restricted = schema
        restricted.columns = schema.columns.filter { frame[$0.name] != nil }
        if let target = schema.target, frame[target] == nil { restricted.target = nil }
        return restricted
    }

    static func text(_ report: MonitorReport) -> String {
        let drift = report.dataDrift
        var lines = ["data drift (\(drift.currentRows) rows; PSI ≥ \(drift.thresholds.psi), Wasserstein ≥ \(drift.thresholds.normalizedWasserstein) sd or Jensen-Shannon ≥ \(drift.thresholds.jensenShannon), with adjusted p < \(drift.thresholds.alpha)):", ""]
        let features = drift.features + (drift.predictions.map { [$0] } ?? [])
        lines += TextTable.render(header: ["feature", "PSI", "test", "adj. p", "W (sd)", "JS", "missing", "unseen", "drift"], rows: features.map { f in
            [f.name, Format.fixed(f.psi, 3), f.testName ?? "-", f.adjustedPValue.map { $0 < 1e-4 ? String(format: "%.1e", $0) : Format.fixed($0, 4) } ?? "-",
             f.normalizedWasserstein.map { Format.fixed($0, 3) } ?? "-", f.jensenShannon.map { Format.fixed($0, 3) } ?? "-",
             "\(Format.fixed(f.referenceMissingRate * 100, 1))→\(Format.fixed(f.currentMissingRate * 100, 1))%", Format.fixed(f.unseenRate * 100, 1) + "%",
             f.drifted ? "YES" : ""]
        }, rightAligned: [1, 3, 4, 5, 7])
        if let timeline = report.timeline, !timeline.windows.isEmpty {
            let first = timeline.firstDrift
            lines += ["", "drift over time (\(timeline.windows.count) windows from \(label(timeline.windows[0]))):"]
            for name in timeline.features {
                let count = timeline.drifted[timeline.features.firstIndex(of: name)!].filter { $0 }.count
                lines.append("  \(name): " + (first[name].map { "drifted in \(count) of \(timeline.windows.count) windows, first from \(label($0))" } ?? "no window drifted"))
            }
        }
        if let concept = report.conceptDrift {
            lines += ["", "performance (\(concept.metric); holdout \(Format.fixed(concept.baseline, 4)), now \(Format.fixed(concept.overall, 4))):"]
            for window in concept.windows {
                lines.append("  \(label(window.start)): \(Format.fixed(window.score, 4)) on \(window.rows) rows (\(window.change >= 0 ? "+" : "")\(Format.fixed(window.change, 4)))\(window.degraded ? "  DEGRADED" : "")")
            }
            for finding in concept.detectors {
                lines.append("  \(finding.detector): \(finding.rows.isEmpty ? "no drift in the error stream" : "drift at \(finding.rows.count) point(s), first at row \(finding.rows[0])\(finding.times.map { " (\(label($0[0])))" } ?? "")")")
            }
        }
        for audit in report.bias {
            lines += ["", "bias audit of \(audit.attribute) (selected = \(audit.positiveClass)): parity difference \(Format.fixed(audit.demographicParityDifference * 100, 1))%, disparate impact \(Format.fixed(audit.disparateImpactRatio, 2))" +
                      (audit.equalOpportunityDifference.map { ", equal opportunity difference \(Format.fixed($0 * 100, 1))%" } ?? "")]
            for group in audit.groups {
                lines.append("  \(group.group): \(group.count) rows, selected \(Format.fixed(group.selectionRate * 100, 1))%" +
                             (group.truePositiveRate.map { ", TPR \(Format.fixed($0 * 100, 1))%" } ?? ""))
            }
        }
        lines += ["", report.alerts.isEmpty ? "no alerts" : "alerts:"] + report.alerts.map { "  - \($0)" }
        return lines.joined(separator: "\n")
    }

    private static func label(_ value: Double) -> String {
        guard value > 1e8 else { return "rows from \(Int(value))" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date(timeIntervalSince1970: value))
    }
}
