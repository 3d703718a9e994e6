import KeelData

/// How a learner sees one input column.
public enum FeatureKind: Codable, Sendable, Equatable {
    case numeric
    /// Values are level indices into `FeatureEncoder.Feature.levels`; other levels are missing.
    case categorical
}

/// Features as learners take them: one contiguous `Double` column per feature (NaN = missing), categorical
/// features as indices into the levels the encoder was fitted on.
public struct FeatureMatrix: Sendable {
    public let rowCount: Int
    public let kinds: [FeatureKind]
    /// Column-major: feature `j` is `values[j * rowCount ..< (j + 1) * rowCount]`.
    public var values: [Double]

    public init(rowCount: Int, kinds: [FeatureKind], values: [Double]) {
        precondition(values.count == rowCount * kinds.count, "one value per row and feature")
        self.rowCount = rowCount
        self.kinds = kinds
        self.values = values
    }

    public var featureCount: Int { kinds.count }

    public func value(row: Int, feature: Int) -> Double { values[feature * rowCount + row] }

    /// The rows given, in that order.
    public func selecting(rows: [Int]) -> FeatureMatrix {
        var selected = [Double](repeating: 0, count: rows.count * featureCount)
        for feature in 0..<featureCount {
            let source = feature * rowCount
            let target = feature * rows.count
            for (i, row) in rows.enumerated() { selected[target + i] = values[source + row] }
        }
        return FeatureMatrix(rowCount: rows.count, kinds: kinds, values: selected)
    }
}

/// Turns frame columns into a `FeatureMatrix`, remembering categorical levels by their text.
///
/// Levels are matched by spelling, never by the frame's dictionary codes, so a category means the same at
/// prediction as in training whatever order the new file lists it in; a level never seen in training is
/// treated as missing.
public struct FeatureEncoder: Codable, Sendable, Equatable {
    public struct Feature: Codable, Sendable, Equatable {
        public var name: String
        public var kind: FeatureKind
        /// Training levels of a categorical feature, in code order.
        public var levels: [String]
        /// Whether the feature had missing values in training.
        public var nullable: Bool
    }

    public private(set) var features: [Feature]

    /// Learns the encoding of `names` from `frame`. Numeric, boolean and datetime columns are numeric
    /// (datetimes as seconds since 1970); categorical and text columns are categorical. `names` may be empty
    /// when every feature comes from another step (text, say).
    public init(frame: Frame, features names: [String]) throws {
        features = try names.map { name in
            guard let column = frame[name] else { throw LearnError.schemaMismatch("feature column '\(name)' is not in the data") }
            switch column.values {
            case .categorical(let strings), .text(let strings):
                return Feature(name: name, kind: .categorical, levels: strings.levels, nullable: column.missingCount > 0)
            case .numeric, .boolean, .datetime:
                return Feature(name: name, kind: .numeric, levels: [], nullable: column.missingCount > 0)
            }
        }
    }

    public var names: [String] { features.map(\.name) }

    /// Encodes `frame`, whose columns may come in any order and may include others.
    ///
    /// - Throws: `LearnError.schemaMismatch` naming a missing feature column or one of the wrong kind.
    public func encode(_ frame: Frame) throws -> FeatureMatrix {
        let rows = frame.rowCount
        var values = [Double](repeating: .nan, count: rows * features.count)
        for (j, feature) in features.enumerated() {
            guard let column = frame[feature.name] else {
                throw LearnError.schemaMismatch("feature column '\(feature.name)' is missing from the data")
            }
            let offset = j * rows
            switch (feature.kind, column.values) {
            case (.numeric, .numeric(let v)), (.numeric, .datetime(let v)):
                for i in 0..<rows { values[offset + i] = v[i] }
            case (.numeric, .boolean(let b)):
                for i in 0..<rows where b[i] != Column.missingBoolean { values[offset + i] = Double(b[i]) }
            case (.categorical, .categorical(let s)), (.categorical, .text(let s)):
                let mapping = codeMapping(from: s.levels, to: feature.levels)
                for i in 0..<rows {
                    let code = s.codes[i]
                    if code != EncodedStrings.missing, let trained = mapping[Int(code)] { values[offset + i] = Double(trained) }
                }
            case (.categorical, _):
                let converted = try column.converted(to: .categorical)
                guard case .categorical(let s) = converted.values else { continue }
                let mapping = codeMapping(from: s.levels, to: feature.levels)
                for i in 0..<rows where s.codes[i] != EncodedStrings.missing {
                    if let trained = mapping[Int(s.codes[i])] { values[offset + i] = Double(trained) }
                }
            case (.numeric, _):
                throw LearnError.schemaMismatch("feature column '\(feature.name)' holds \(column.kind.rawValue) values; the model expects numbers")
            }
        }
        return FeatureMatrix(rowCount: rows, kinds: features.map(\.kind), values: values)
    }

    private func codeMapping(from levels: [String], to trained: [String]) -> [Int?] {
        if levels == trained { return trained.indices.map { $0 } }
        // A request's few levels are found faster by scanning than by hashing every trained level.
        if levels.count <= 4 { return levels.map { trained.firstIndex(of: $0) } }
        var index: [String: Int] = [:]
        for (code, level) in trained.enumerated() { index[level] = code }
        return levels.map { index[$0] }
    }
}
