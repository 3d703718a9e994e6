import Foundation
import KeelData
import KeelLearn

/// One explanation of a model on some rows: reason codes per row and, when asked, the global views. It is
/// computed once; the terminal, `--json`, the HTML report (which embeds it) and `POST /v1/explain` are
/// renderings of this value, so they cannot disagree. Every number in it is finite (`validate()`), and a
/// missing input value is the string "missing".
public struct Explanation: Codable, Sendable {
    public var model: String
    public var data: String
    public var task: TaskKind
    public var target: String
    /// The classes in the model's order (classifiers only).
    public var classes: [String]?
    /// What a row's attributions are measured in: "log-odds of Survived = 1", "log-odds of the row's
    /// predicted class", or the target in its own units.
    public var units: String
    public var rows: [RowExplanation]
    public var global: GlobalExplanation?
    /// What was sampled, skipped or assumed, in words, with the flag that changes it.
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case model, data, task, target, classes, units, rows, global, notes
    }
}

/// Global views over a sample of rows: mean |attribution| per column, permutation importance when the data
/// has the target, and partial dependence of the most important columns.
public struct GlobalExplanation: Codable, Sendable {
    /// Rows the global views describe, and rows the data has: the sample is seeded and stated.
    public var rowsExplained: Int
    public var rowsInData: Int
    public var sampleSeed: UInt64
    /// Mean |attribution| per column, most important first; for multiclass models the sum over classes,
    /// with each class's share in `byClass`.
    public var importance: [ColumnImportance]
    public var importanceUnits: String
    public var permutation: [FeatureImportance]?
    public var permutationMetric: String?
    public var partialDependence: [PartialDependence]
    /// The class whose attributions the per-row charts and partial dependence show (multiclass), or the
    /// positive class (binary); nil for regression.
    public var chartClass: String?
    /// What a chart's attribution axis and partial dependence's axis measure.
    public var chartUnits: String
    public var partialDependenceUnits: String

    enum CodingKeys: String, CodingKey {
        case importance, permutation
        case rowsExplained = "rows_explained"
        case rowsInData = "rows_in_data"
        case sampleSeed = "sample_seed"
        case importanceUnits = "importance_units"
        case permutationMetric = "permutation_metric"
        case partialDependence = "partial_dependence"
        case chartClass = "chart_class"
        case chartUnits = "chart_units"
        case partialDependenceUnits = "partial_dependence_units"
    }
}

public struct ColumnImportance: Codable, Sendable, Equatable {
    public var column: String
    public var meanAbsolute: Double
    /// Multiclass: the mean |attribution| of each class's margin (they add up to `meanAbsolute`).
    public var byClass: [String: Double]?

    enum CodingKeys: String, CodingKey {
        case column
        case meanAbsolute = "mean_absolute"
        case byClass = "by_class"
    }
}

/// What to explain and how much work the global views may take.
public struct ExplanationRequest: Sendable {
    /// 0-based rows of the data to give reason codes for.
    public var rows: [Int]
    public var topK = 3
    public var global = false
    /// Rows for the global views; nil sizes a seeded sample to finish in about `targetSeconds`.
    public var sample: Int?
    public var targetSeconds = 5.0
    public var seed: UInt64 = 1
    /// The class the multiclass charts show; nil picks the class predicted most often in the sample.
    public var chartClass: String?
    public var partialDependenceColumns = 4

    public init(rows: [Int], topK: Int = 3) {
        self.rows = rows
        self.topK = topK
    }
}

public enum ExplanationError: Error, CustomStringConvertible, Equatable {
    case notFinite(String)
    case unknownClass(String, [String])

    public var description: String {
        switch self {
        case .notFinite(let place):
            "the explanation holds a number that is not finite (\(place)); this is a bug in Keel, please report it with the model"
        case .unknownClass(let name, let classes):
            "--class '\(name)' is not a class of this model (classes: \(classes.joined(separator: ", ")))"
        }
    }
}

/// An explanation with what the HTML charts draw besides it: the sampled rows and their attributions.
public struct ExplanationResult: Sendable {
    public var explanation: Explanation
    /// Attributions of the sampled rows per input column (global views only).
    public var attributions: Attributions?
    public var sample: Frame?
    /// The output the charts show (the chart class's index for multiclass, else 0).
    public var chartOutput: Int
}

extension Explainer {
    /// Explains `request.rows` of `frame` and, with `request.global`, a seeded sample of it. `progress`
    /// receives a line per step (the CLI shows them on a terminal).
    public static func explain(_ model: TrainedModel, frame: Frame, modelName: String, dataName: String, request: ExplanationRequest,
                               progress: (String) -> Void = { _ in }) throws -> ExplanationResult {
        let task = model.schema.task?.kind ?? .regression
        let classes = model.schema.task?.classes
        let target = model.schema.target ?? "the target"
        let positive = model.schema.task?.positiveClass ?? classes?.last ?? "the positive class"
        let units: String = switch task {
        case .binary: "log-odds of \(target) = \(positive)"
        case .multiclass: "log-odds of the row's predicted class"
        case .regression: "\(target), in its own units"
        }
        let reasons = try reasonCodes(model, frame: frame, rows: request.rows, topK: request.topK)
        var explanation = Explanation(model: modelName, data: dataName, task: task, target: target, classes: classes, units: units,
                                      rows: reasons, global: nil, notes: [])
        guard request.global else {
            try explanation.validate()
            return ExplanationResult(explanation: explanation, attributions: nil, sample: nil, chartOutput: 0)
        }

        // The sample: a seeded order of the rows, cut to the requested size or to what finishes in time,
        // judged by how long a pilot of 32 rows of that order takes to attribute.
        var generator = SeededGenerator(seed: request.seed)
        var order = Array(0..<frame.rowCount)
        generator.shuffle(&order)
        let size: Int
        if let wanted = request.sample {
            size = min(wanted, frame.rowCount)
            if size < frame.rowCount {
                explanation.notes.append("the global views use \(Readable.count(size)) of the \(Readable.count(frame.rowCount)) rows, a seeded sample (--sample sets the size)")
            }
        } else {
            let pilot = Array(order.prefix(32)).sorted()
            let started = ContinuousClock.now
            _ = try attributions(model, frame: frame.selecting(rows: pilot))
            let perRow = max((ContinuousClock.now - started).seconds / Double(max(pilot.count, 1)), 1e-7)
            // Attributions get half the target time; permutation importance and partial dependence the rest.
            let affordable = Int(request.targetSeconds * 0.5 / perRow)
            size = min(frame.rowCount, max(min(100, frame.rowCount), min(2_000, affordable)))
            if size < frame.rowCount {
                explanation.notes.append("the global views use \(Readable.count(size)) of the \(Readable.count(frame.rowCount)) rows, a seeded sample sized to finish in about \(Int(request.targetSeconds)) s (--sample N sets the size)")
            }
        }
        let sampleRows = Array(order.prefix(size)).sorted()
        let sample = size == frame.rowCount ? frame : frame.selecting(rows: sampleRows)
        progress("attributing \(size) rows")
        let attributions = try attributions(model, frame: sample)

        // The class the charts show: asked for, or the one predicted most often in the sample.
        var chartOutput = 0
        var chartClass: String? = task == .binary ? positive : nil
        if task == .multiclass, let classes {
            if let wanted = request.chartClass {
                guard let index = classes.firstIndex(of: wanted) else { throw ExplanationError.unknownClass(wanted, classes) }
                chartOutput = index
            } else {
                var counts = [String: Int]()
                for prediction in try model.predictor.predict(sample) { counts[prediction.label, default: 0] += 1 }
                chartOutput = classes.indices.max { (counts[classes[$0]] ?? 0, -$0) < (counts[classes[$1]] ?? 0, -$1) } ?? 0
            }
            chartClass = classes[chartOutput]
        } else if let wanted = request.chartClass, task == .binary, wanted != positive {
            explanation.notes.append("a binary model's charts show \(target) = \(positive); --class \(wanted) was not used")
        }

        let perOutput = (0..<attributions.outputCount).map { attributions.meanAbsolute(output: $0) }
        var importance: [ColumnImportance] = attributions.names.indices.map { f in
            ColumnImportance(column: attributions.names[f], meanAbsolute: perOutput.reduce(0) { $0 + $1[f] },
                             byClass: task == .multiclass ? Dictionary(uniqueKeysWithValues: (classes ?? []).enumerated().map { ($1, perOutput[$0][f]) }) : nil)
        }
        importance.sort { $0.meanAbsolute != $1.meanAbsolute ? $0.meanAbsolute > $1.meanAbsolute : $0.column < $1.column }
        let importanceUnits: String = switch task {
        case .binary: "mean |attribution|, log-odds of \(target) = \(positive)"
        case .multiclass: "mean |attribution|, log-odds summed over the \(classes?.count ?? 0) classes"
        case .regression: "mean |attribution|, \(target) in its own units"
        }

        var permutation: [FeatureImportance]?
        var permutationMetric: String?
        if let column = sample[target], model.schema.task != nil {
            progress("permutation importance: 3 shuffles of \(model.schema.featureNames.count) columns on \(size) rows")
            let storage: ColumnKind = task == .regression ? .numeric : .categorical
            let truth = try TargetEncoding(column: column.converted(to: storage), task: model.schema.task!)
            permutation = try PermutationImportance.compute(model: model, frame: sample, truth: truth.values, repeats: 3, seed: request.seed, deadline: nil)
            permutationMetric = model.provenance.metric.rawValue
        } else {
            explanation.notes.append("no permutation importance: the data has no '\(target)' column to score against")
        }

        let curveRows = min(sample.rowCount, 300)
        let curveFrame = sample.selecting(rows: Array(0..<curveRows))
        var curves: [PartialDependence] = []
        let curveColumns = importance.filter { model.schema[$0.column]?.kind != .text }.prefix(request.partialDependenceColumns)
        if importance.prefix(request.partialDependenceColumns).contains(where: { model.schema[$0.column]?.kind == .text }) {
            explanation.notes.append("no partial dependence for text columns (one document set on every row says nothing about its words); their dependence plot shows the most frequent words")
        }
        for item in curveColumns {
            progress("partial dependence of \(item.column) on \(curveRows) rows")
            if let curve = try PartialDependence.compute(model, frame: curveFrame, column: item.column,
                                                         outputClass: task == .multiclass ? chartOutput : nil) {
                curves.append(curve)
            }
        }
        let chartUnits: String = switch task {
        case .binary: "attribution, log-odds of \(target) = \(positive)"
        case .multiclass: "attribution, log-odds of \(target) = \(chartClass ?? "")"
        case .regression: "attribution, \(target)"
        }
        let curveUnits: String = switch task {
        case .binary, .multiclass: "probability of \(target) = \(chartClass ?? positive)"
        case .regression: "predicted \(target)"
        }
        explanation.global = GlobalExplanation(
            rowsExplained: size, rowsInData: frame.rowCount, sampleSeed: request.seed, importance: importance, importanceUnits: importanceUnits,
            permutation: permutation, permutationMetric: permutationMetric, partialDependence: curves, chartClass: chartClass,
            chartUnits: chartUnits, partialDependenceUnits: curveUnits)
        try explanation.validate()
        return ExplanationResult(explanation: explanation, attributions: attributions, sample: sample, chartOutput: chartOutput)
    }
}

extension Explanation {
    /// Throws when any number is NaN or infinite: an explanation that cannot be trusted is never shown.
    public func validate() throws {
        func check(_ value: Double, _ place: @autoclosure () -> String) throws {
            if !value.isFinite { throw ExplanationError.notFinite(place()) }
        }
        for row in rows {
            try check(row.base, "row \(row.row) base")
            try check(row.margin, "row \(row.row) margin")
            if let p = row.probability { try check(p, "row \(row.row) probability") }
            for (column, value) in row.attributions { try check(value, "row \(row.row), \(column)") }
            for code in row.up + row.down {
                try check(code.attribution, "row \(row.row), \(code.column)")
                if let change = code.probabilityChange { try check(change, "row \(row.row), \(code.column) probability change") }
            }
        }
        guard let global else { return }
        for item in global.importance {
            try check(item.meanAbsolute, "importance of \(item.column)")
            for (name, value) in item.byClass ?? [:] { try check(value, "importance of \(item.column) for class \(name)") }
        }
        for item in global.permutation ?? [] {
            try check(item.importance, "permutation importance of \(item.column)")
            try check(item.std, "permutation importance spread of \(item.column)")
        }
        for curve in global.partialDependence {
            for value in curve.average + curve.ice.joined() + (curve.gridNumbers ?? []) {
                try check(value, "partial dependence of \(curve.column)")
            }
        }
    }

    /// The JSON every view shares: keys sorted, snake_case, no non-finite numbers (validated before).
    public func json(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The terminal's view: reason codes, then the global importance table and what was sampled.
    public func terminalText() -> String {
        var lines: [String] = []
        for reason in rows {
            let predicted = task == .regression ? Double(reason.prediction).map(Readable.number) ?? reason.prediction : reason.prediction
            var head = "row \(reason.row): predicted \(predicted)"
            if let p = reason.probability, let c = reason.explainedClass {
                head += ", probability of \(target) = \(c) \(Readable.percent(p))"
            }
            let scale: String = switch task {
            case .binary: "log-odds"
            case .multiclass: "margin of class \(reason.explainedClass ?? "")"
            case .regression: target
            }
            head += " (\(scale) \(Readable.number(reason.margin)) = base \(Readable.number(reason.base)) + attributions)"
            lines.append(head)
            for code in reason.up { lines.append("  + \(code.text)") }
            for code in reason.down { lines.append("  - \(code.text)") }
        }
        if let global {
            lines.append("")
            lines.append("global importance on \(Readable.count(global.rowsExplained)) of \(Readable.count(global.rowsInData)) rows (\(global.importanceUnits))")
            let permutation = Dictionary(uniqueKeysWithValues: (global.permutation ?? []).map { ($0.column, $0) })
            var table = [["column", "mean |attribution|", global.permutationMetric.map { "permutation (\($0))" } ?? "permutation"]]
            for item in global.importance {
                let p = permutation[item.column]
                table.append([item.column, Readable.number(item.meanAbsolute), p.map { "\(Readable.number($0.importance)) ± \(Readable.number($0.std))" } ?? "-"])
            }
            let widths = (0..<3).map { c in table.map { $0[c].count }.max() ?? 0 }
            for (i, row) in table.enumerated() {
                let cells = row.enumerated().map { c, cell in
                    c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: widths[c] - cell.count) + cell
                }
                lines.append(cells.joined(separator: "  "))
                if i == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
            }
        }
        for note in notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n")
    }
}
