import Foundation
import KeelData
import KeelLearn

/// What `keel train` ships: the schema the data must match, the fitted pipeline and model, how good it is,
/// and how it was made. Provisional file format (the serving issue settles the artefact): a header line
/// `KEELMODEL <version> <sha256 of the payload>` followed by the JSON payload, verified on load.
public struct TrainedModel: Codable, Sendable {
    public static let formatVersion = 1
    public static let keelVersion = "0.1.0"

    public var keelVersion: String
    public var createdAt: String
    public var schema: Schema
    public var pipeline: Pipeline
    public var model: FittedModel
    public var metric: Metric
    public var validation: String
    public var crossValidatedScore: Double
    public var holdoutScore: Double
    public var dataFingerprint: String
    public var seed: UInt64
    /// The configurations the search evaluated, in order: replaying them with the seed reproduces the run.
    public var trialSchedule: [Learner]
    /// Columns the training file was read with as text (`--categorical`); prediction must read them the same
    /// way, or a category spelled `3.0` in a file would not match the `3` training saw.
    public var textColumns: [String] = []

    // MARK: Prediction

    /// One row's prediction: the label as spelled in training (or the value) and, for classifiers, the
    /// probability of each class in the task's class order.
    public struct Prediction: Sendable {
        public var label: String
        public var value: Double?
        public var probabilities: [Double]
    }

    /// Scores `frame` after checking it against the schema: feature columns that never had missing values in
    /// training must be present; others may be absent (then missing); extra columns are ignored.
    public func predict(_ frame: Frame) throws -> [Prediction] {
        let output = try outputs(frame)
        guard let task = schema.task else { return [] }
        switch task.kind {
        case .regression:
            return output.map { Prediction(label: NumberFormatting.canonical($0), value: $0, probabilities: []) }
        case .binary, .multiclass:
            let classes = task.classes ?? []
            let k = classes.count
            return (0..<frame.rowCount).map { row in
                let p = Array(output[(row * k)..<((row + 1) * k)])
                var best = 0
                for c in 1..<k where p[c] > p[best] { best = c }
                return Prediction(label: classes[best], value: nil, probabilities: p)
            }
        }
    }

    /// Probabilities (row-major, one per class) or values, as the metrics take them.
    public func outputs(_ frame: Frame) throws -> [Double] {
        try model.predict(try pipeline.transform(try conform(frame)))
    }

    private func conform(_ frame: Frame) throws -> Frame {
        var columns = frame.columns
        for feature in schema.columns(withRole: .feature) where frame[feature.name] == nil {
            guard feature.nullable else {
                throw SearchError.invalidInput("the data lacks column '\(feature.name)', which the model needs (it had no missing values in training)")
            }
            let missing: ColumnValues = switch feature.kind {
            case .numeric: .numeric([Double](repeating: .nan, count: frame.rowCount))
            case .datetime: .datetime([Double](repeating: .nan, count: frame.rowCount))
            case .boolean: .boolean([UInt8](repeating: Column.missingBoolean, count: frame.rowCount))
            case .categorical: .categorical(EncodedStrings(codes: [UInt32](repeating: EncodedStrings.missing, count: frame.rowCount), levels: []))
            case .text: .text(EncodedStrings(codes: [UInt32](repeating: EncodedStrings.missing, count: frame.rowCount), levels: []))
            }
            columns.append(Column(name: feature.name, values: missing))
        }
        var typed = try Frame(columns: columns)
        for feature in schema.columns(withRole: .feature) {
            let column = typed[feature.name]!
            guard column.kind != feature.kind else { continue }
            do {
                try typed.replace(column.converted(to: feature.kind))
            } catch {
                throw SearchError.invalidInput("column '\(feature.name)' should hold \(feature.kind.rawValue) values: \(error)")
            }
        }
        return typed
    }

    // MARK: File

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let payload = Array(try encoder.encode(self))
        var hasher = SHA256Hasher()
        hasher.update(payload)
        let header = Array("KEELMODEL \(Self.formatVersion) \(SHA256Hasher.hex(hasher.finalize()))\n".utf8)
        try AtomicFile.write(header + payload, to: path)
    }

    public static func read(from path: String) throws -> TrainedModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SearchError.invalidModelFile("cannot read model file \(path)")
        }
        let bytes = Array(data)
        guard let newline = bytes.firstIndex(of: 0x0A), let header = String(validating: bytes[..<newline], as: UTF8.self) else {
            throw SearchError.invalidModelFile("\(path) is not a Keel model file")
        }
        let parts = header.split(separator: " ")
        guard parts.count == 3, parts[0] == "KEELMODEL", let version = Int(parts[1]) else {
            throw SearchError.invalidModelFile("\(path) is not a Keel model file")
        }
        guard version <= formatVersion else {
            throw SearchError.invalidModelFile("\(path) was written in model format \(version); this Keel reads up to \(formatVersion)")
        }
        let payload = Array(bytes[(newline + 1)...])
        var hasher = SHA256Hasher()
        hasher.update(payload)
        guard SHA256Hasher.hex(hasher.finalize()) == parts[2] else {
            throw SearchError.invalidModelFile("\(path) is corrupt or truncated: its checksum does not match")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(TrainedModel.self, from: Data(payload))
    }
}
