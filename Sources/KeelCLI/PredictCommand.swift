import ArgumentParser
import Foundation
import KeelData
import KeelSearch

/// `keel predict MODEL DATA`: batch scoring to CSV, in input row order.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score a CSV file with a saved model.",
        discussion: """
        Output columns: the schema's id columns, then `prediction` (the class label as spelled in training, or \
        the value), then for classifiers one `proba_<class>` column per class. Feature columns that had no missing \
        values in training are required; others may be absent. Without --out, the CSV goes to standard output.
        """
    )

    @Argument(help: "A model file from `keel train`.")
    var model: String

    @Argument(help: "A CSV file (optionally .gz) to score.")
    var file: String

    @Option(help: "Where to write the predictions (CSV).")
    var out: String?

    func run() async throws {
        let trained = try TrainedModel.read(from: model)
        // Read exactly as training read its file, so every value is spelled the same way.
        var options = CSVOptions()
        options.stringColumns = Set(trained.textColumns)
        let frame = try CSVReader.read(path: file, options: options)
        let predictions = try trained.predict(frame)
        let ids = trained.schema.columns(withRole: .id).map(\.name).filter { frame[$0] != nil }
        let classes = trained.schema.task?.classes ?? []
        let isClassifier = trained.schema.task?.kind != .regression
        var header = ids + ["prediction"]
        if isClassifier { header += classes.map { "proba_\($0)" } }
        var lines = [header.map(Self.quote).joined(separator: ",")]
        lines.reserveCapacity(frame.rowCount + 1)
        for (row, prediction) in predictions.enumerated() {
            var fields = ids.map { frame[$0]!.displayValue(at: row) ?? "" }
            fields.append(prediction.label)
            if isClassifier { fields += prediction.probabilities.map { String(format: "%.6g", $0) } }
            lines.append(fields.map(Self.quote).joined(separator: ","))
        }
        let text = lines.joined(separator: "\n") + "\n"
        if let out {
            try AtomicFile.write(text, to: out)
            Terminal.progress("wrote \(predictions.count) predictions to \(out)")
        } else {
            print(text, terminator: "")
        }
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
