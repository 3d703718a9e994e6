import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelExplain
import KeelLearn
import KeelRegistry

/// `keel explain MODEL DATA`: reason codes per row, global importance, and an HTML report.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a model's predictions: reason codes per row, global importance, an HTML report.",
        discussion: """
        Attributions are exact Shapley values in the model's margin (log-odds for classifiers, target units for \
        regression), per column of the data: TreeSHAP for boosted trees and forests, coefficients for linear \
        models, the model's own terms for an EBM, weighted sums for ensembles. For each row, base + attributions \
        = the margin. Reason codes also give the approximate change in probability. --global adds mean |SHAP| \
        over the data (up to --sample rows), permutation importance when the data has the target, and partial \
        dependence of the top columns, on a seeded sample sized to finish in seconds (--sample sets it); the \
        terminal, --json and the HTML report (which embeds the same JSON) show one computation.
        """
    )

    @Argument(help: "A model file from `keel train`, or a registered model: NAME, NAME@VERSION or NAME@production.")
    var model: String

    @Argument(help: "A CSV (optionally .gz) or Parquet file with the rows to explain.")
    var file: String

    @Option(help: ArgumentHelp("0-based rows to explain, e.g. 0-9 or 3,7,12 (default 0-9).", valueName: "rows"))
    var rows = "0-9"

    @Option(help: "Reasons per direction per row.")
    var topK = 3

    @Flag(help: "Also compute global importance (mean |SHAP|, permutation importance) and partial dependence.")
    var global = false

    @Option(help: ArgumentHelp("Rows for the global views (a seeded sample when the data has more); by default sized to finish in about 5 seconds.", valueName: "rows"))
    var sample: Int?

    @Option(name: .customLong("class"), help: ArgumentHelp("The class the charts of a multiclass model show (default: the class predicted most often).", valueName: "class"))
    var chartClass: String?

    @Flag(help: "Print one JSON document.")
    var json = false

    @Option(help: ArgumentHelp("Write a self-contained HTML report here.", valueName: "file"))
    var html: String?

    @OptionGroup var keys: ArtifactReadOptions

    @OptionGroup var piiKey: PIIKeyOptions

    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if let sample, sample < 10 { throw ValidationError("--sample must be at least 10") }
        _ = try Self.parseRows(rows)
    }

    func run() async throws {
        let trained = try Artifact.read(from: try await registry.modelPath(model), options: try keys.readOptions()).model
        let options = try CSVOptions.scoring(trained)
        // The model's privacy rules first: explanations show only the values the model may see.
        let read = try CSVReader.read(path: file, options: options)
        let frame = try piiKey.protect(read, schema: trained.schema)
        try options.noteUnreadColumns(of: file)
        let wanted = try Self.parseRows(rows)
        if let beyond = wanted.first(where: { $0 >= frame.rowCount }) {
            throw ValidationError("--rows asks for row \(beyond), but \(file) has \(frame.rowCount) rows (0-based)")
        }
        var request = ExplanationRequest(rows: wanted)
        request.topK = topK
        request.global = global || html != nil
        request.sample = sample
        request.chartClass = chartClass
        // Progress goes to a terminal only: piped or captured output stays the result alone.
        let interactive = isatty(2) == 1
        let started = ContinuousClock.now
        let result = try Explainer.explain(trained, frame: frame, modelName: model, dataName: file, request: request) { step in
            if interactive { Terminal.progress("[\(String(format: "%.1f", (ContinuousClock.now - started).seconds))s] \(step)") }
        }
        if let html {
            let report = HTMLReport(title: "Keel explanation: \((model as NSString).lastPathComponent) on \((file as NSString).lastPathComponent)",
                                    result: result, schema: trained.schema)
            try AtomicFile.write(try report.render(), to: html)
            Terminal.progress("wrote \(html)")
        }
        var explanation = result.explanation
        // The HTML report needs the global views; the terminal and JSON show them only when asked.
        if !global { explanation.global = nil }
        if json {
            print(String(decoding: try explanation.json(), as: UTF8.self))
        } else {
            print(explanation.terminalText())
        }
    }

    /// `0-9`, `3,7,12` or a mix: sorted, without duplicates.
    static func parseRows(_ text: String) throws -> [Int] {
        var result = Set<Int>()
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch bounds.count {
            case 1 where bounds[0] != nil && bounds[0]! >= 0: result.insert(bounds[0]!)
            case 2 where bounds[0] != nil && bounds[1] != nil && bounds[0]! >= 0 && bounds[0]! <= bounds[1]!:
                guard bounds[1]! - bounds[0]! < 100_000 else { throw ValidationError("--rows range '\(part)' is too large") }
                result.formUnion(bounds[0]!...bounds[1]!)
            default: throw ValidationError("--rows takes 0-based rows such as 0-9 or 3,7,12, not '\(text)'")
            }
        }
        guard !result.isEmpty else { throw ValidationError("--rows names no row") }
        return result.sorted()
    }
}
