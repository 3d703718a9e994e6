import ArgumentParser
import Foundation
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
        dependence of the top columns.
        """
    )

    @Argument(help: "A model file from `keel train`, or a registered model: NAME, NAME@VERSION or NAME@production.")
    var model: String

    @Argument(help: "A CSV file with the rows to explain.")
    var file: String

    @Option(help: ArgumentHelp("0-based rows to explain, e.g. 0-9 or 3,7,12 (default 0-9).", valueName: "rows"))
    var rows = "0-9"

    @Option(help: "Reasons per direction per row.")
    var topK = 3

    @Flag(help: "Also compute global importance (mean |SHAP|, permutation importance) and partial dependence.")
    var global = false

    @Option(help: "Rows used for the global views (a seeded sample when the file has more).")
    var sample = 2_000

    @Flag(help: "Print one JSON document.")
    var json = false

    @Option(help: ArgumentHelp("Write a self-contained HTML report here.", valueName: "file"))
    var html: String?

    @OptionGroup var keys: ArtifactReadOptions

    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if sample < 10 { throw ValidationError("--sample must be at least 10") }
        _ = try Self.parseRows(rows)
    }

    struct Output: Encodable {
        var model: String
        var explained: String
        var base: Double
        var rows: [RowExplanation]
        var importance: [Importance]?
        var permutation: [FeatureImportance]?
        var partialDependence: [PartialDependence]?

        struct Importance: Encodable {
            var column: String
            var meanAbsolute: Double
        }
    }

    func run() async throws {
        let trained = try Artifact.read(from: try registry.modelPath(model), options: try keys.readOptions()).model
        var options = CSVOptions()
        options.stringColumns = Set(trained.textColumns)
        let frame = try CSVReader.read(path: file, options: options)
        let wanted = try Self.parseRows(rows)
        if let beyond = wanted.first(where: { $0 >= frame.rowCount }) {
            throw ValidationError("--rows asks for row \(beyond), but \(file) has \(frame.rowCount) rows (0-based)")
        }
        let reasons = try Explainer.reasonCodes(trained, frame: frame, rows: wanted, topK: topK)
        let task = trained.schema.task
        let label = task?.kind == .regression ? "prediction" : "log-odds of \(task?.positiveClass ?? task?.classes?.last ?? "the positive class")"

        var importance: [Output.Importance]?
        var permutation: [FeatureImportance]?
        var curves: [PartialDependence]?
        var globalAttributions: Attributions?
        var globalFrame = frame
        if global || html != nil {
            if frame.rowCount > sample {
                var generator = SeededGenerator(seed: 1)
                var order = Array(0..<frame.rowCount)
                generator.shuffle(&order)
                globalFrame = frame.selecting(rows: order.prefix(sample).sorted())
            }
            let attributions = try Explainer.attributions(trained, frame: globalFrame)
            globalAttributions = attributions
            let means = attributions.globalImportance()
            importance = means.indices.sorted { means[$0] > means[$1] }.map { Output.Importance(column: attributions.names[$0], meanAbsolute: means[$0]) }
            if let target = trained.schema.target, let column = globalFrame[target], let task {
                let storage: ColumnKind = task.kind == .regression ? .numeric : .categorical
                let truth = try TargetEncoding(column: column.converted(to: storage), task: task)
                permutation = try PermutationImportance.compute(model: trained, frame: globalFrame, truth: truth.values, repeats: 3, seed: 1, deadline: nil)
            }
            curves = try (importance ?? []).prefix(4).compactMap { item in
                try PartialDependence.compute(trained, frame: globalFrame.selecting(rows: Array(0..<min(globalFrame.rowCount, 300))), column: item.column)
            }
        }
        if let html, let globalAttributions {
            let report = HTMLReport(title: "Keel explanation: \((model as NSString).lastPathComponent) on \((file as NSString).lastPathComponent)",
                                    attributions: globalAttributions, frame: globalFrame, output: 0, outputLabel: label,
                                    partialDependence: curves ?? [], reasons: reasons, permutation: permutation)
            try AtomicFile.write(report.render(), to: html)
            Terminal.progress("wrote \(html)")
        }
        if json {
            print(try JSONOutput.string(Output(model: model, explained: label, base: reasons.first?.base ?? 0, rows: reasons,
                                               importance: global ? importance : nil, permutation: global ? permutation : nil,
                                               partialDependence: global ? curves : nil)))
            return
        }
        var lines: [String] = []
        for reason in reasons {
            let p = reason.probability.map { ", p = " + String(format: "%.3f", $0) } ?? ""
            lines.append("row \(reason.row): \(reason.prediction)\(p) (margin \(String(format: "%.3f", reason.margin)) = base \(String(format: "%.3f", reason.base)) + attributions)")
            for code in reason.up { lines.append("  + \(code.text)") }
            for code in reason.down { lines.append("  - \(code.text)") }
        }
        if global, let importance {
            lines.append("")
            lines.append("global importance (mean |attribution| on \(globalFrame.rowCount) rows, \(label))")
            let permutationByColumn = Dictionary(uniqueKeysWithValues: (permutation ?? []).map { ($0.column, $0) })
            let table = importance.map { item -> [String] in
                let p = permutationByColumn[item.column]
                return [item.column, String(format: "%.4f", item.meanAbsolute), p.map { String(format: "%.4f ± %.4f", $0.importance, $0.std) } ?? "-"]
            }
            lines += TextTable.render(header: ["column", "mean |SHAP|", "permutation (\(trained.metric.rawValue))"], rows: table, rightAligned: [1, 2])
        }
        print(lines.joined(separator: "\n"))
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
