import Foundation
import KeelArtifact
import KeelData
import KeelRegistry
import KeelTestSupport

/// Two small models trained once per test run (a boosted model and a linear one on the same data) and the
/// data they were trained on, for the server tests.
enum ServedModels {
    struct Setup: Sendable {
        var folder: URL
        var data: String
        var boosted: String
        var linear: String
    }

    static let setup: Setup = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-serve-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = folder.appendingPathComponent("churn.csv").path
        try! CustomerChurnFixture.csv.write(toFile: data, atomically: true, encoding: .utf8)
        let boosted = folder.appendingPathComponent("boosted.keel").path
        let linear = folder.appendingPathComponent("linear.keel").path
        for (learner, out) in [("gbdt", boosted), ("linear", linear)] {
            let result = try! KeelProcess.run(["train", data, "--target", "churned", "--trials", "2", "--learner", learner, "--out", out, "--quiet", "--no-registry"])
            precondition(result.status == 0, result.stderr)
        }
        return Setup(folder: folder, data: data, boosted: boosted, linear: linear)
    }()

    /// The rows of `csv` as JSON objects typed by the model's schema (numbers as numbers, dates as strings),
    /// leaving out missing values, as a client would send them.
    static func jsonRows(csv path: String, model: String) throws -> [String] {
        let artifact = try Artifact.read(from: model)
        var options = CSVOptions()
        options.stringColumns = Set(artifact.model.schema.textColumns ?? [])
        let frame = try CSVReader.read(path: path, options: options)
        let columns = artifact.manifest.schema.columns.filter { $0.role == .feature || $0.role == .id }
        return (0..<frame.rowCount).map { row in
            var fields: [String] = []
            for column in columns {
                guard let value = frame[column.name]?.displayValue(at: row) else { continue }
                let encoded: String = switch column.kind {
                case .numeric, .boolean: value
                case .categorical, .text, .datetime: "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
                }
                fields.append("\"\(column.name)\":\(encoded)")
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }
}
