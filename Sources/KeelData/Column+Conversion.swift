import Foundation
extension Column {
    /// This column stored as `kind`: numbers and dates become categorical levels (spelled canonically, in
    /// order of first appearance), levels become numbers when every one parses, booleans become 0/1.
    ///
    /// - Throws: `DataError.invalidValue` naming the first value that cannot be converted.
    public func converted(to kind: ColumnKind) throws -> Column {
        if kind == self.kind { return self }
        switch (values, kind) {
        case (.categorical(let s), .text), (.text(let s), .categorical):
            return Column(name: name, values: kind == .text ? .text(s) : .categorical(s))
        case (.categorical(let s), .numeric), (.text(let s), .numeric):
            return Column(name: name, values: .numeric(try numbers(s)))
        case (.categorical(let s), .datetime), (.text(let s), .datetime):
            return Column(name: name, values: .datetime(try dates(s)))
        case (.numeric(let v), .datetime):
            return Column(name: name, values: .datetime(v))
        case (.datetime(let v), .numeric):
            return Column(name: name, values: .numeric(v))
        case (.boolean(let b), .numeric):
            return Column(name: name, values: .numeric(b.map { $0 == Column.missingBoolean ? .nan : Double($0) }))
        case (_, .categorical), (_, .text):
            let strings = encodedDisplayValues()
            return Column(name: name, values: kind == .text ? .text(strings) : .categorical(strings))
        case (.categorical(let s), .boolean), (.text(let s), .boolean):
            return Column(name: name, values: .boolean(try booleans(s)))
        default:
            throw DataError.invalidValue(nil, "column '\(name)' holds \(self.kind.rawValue) values and cannot be read as \(kind.rawValue)")
        }
    }

    /// `true` or `false` in any case as a boolean (nil otherwise): how text reads as a boolean everywhere.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }

    private func encodedDisplayValues() -> EncodedStrings {
        var coder = LevelCoder(capacity: count)
        for row in 0..<count {
            if let text = displayValue(at: row) { coder.append(text) } else { coder.appendMissing() }
        }
        return coder.encoded
    }

    private func mapLevels<T>(_ s: EncodedStrings, missing: T, what: String, _ parse: (String) -> T?) throws -> [T] {
        var byCode: [T] = []
        for level in s.levels {
            guard let value = parse(level) else {
                // A level no row uses (left behind when rows were selected out) converts to nothing.
                guard let row = s.codes.firstIndex(of: UInt32(byCode.count)) else {
                    byCode.append(missing)
                    continue
                }
                throw DataError.invalidValue(nil, "column '\(name)', row \(row + 1): '\(level)' is not \(what)")
            }
            byCode.append(value)
        }
        return s.codes.map { $0 == EncodedStrings.missing ? missing : byCode[Int($0)] }
    }

    private func numbers(_ s: EncodedStrings) throws -> [Double] {
        try mapLevels(s, missing: .nan, what: "a number") { level in
            var copy = level
            return copy.withUTF8 { NumberParser.parse($0) }
        }
    }

    private func dates(_ s: EncodedStrings) throws -> [Double] {
        try mapLevels(s, missing: .nan, what: "a date", DateTimeParser.parse)
    }

    private func booleans(_ s: EncodedStrings) throws -> [UInt8] {
        try mapLevels(s, missing: Column.missingBoolean, what: "true or false") { level in
            Column.boolean(level).map { $0 ? 1 : 0 }
        }
    }
}

extension Frame {
    /// The frame with each column stored as the schema's kind says (after `--categorical`, `--numeric` or a
    /// schema file). Columns the schema does not mention are kept as they are.
    public func conforming(to schema: Schema) throws -> Frame {
        var result = self
        for column in schema.columns {
            guard let existing = self[column.name], existing.kind != column.kind else { continue }
            try result.replace(existing.converted(to: column.kind))
        }
        return result
    }
}

extension Column {
    /// The column with `words` (exact spellings, spaces trimmed) turned into missing values: how scoring
    /// reads a numeric feature whose training data held those words among its numbers.
    public func readingWordsAsMissing(_ words: [String]?) -> Column {
        guard let words, !words.isEmpty else { return self }
        let set = Set(words)
        func clean(_ strings: EncodedStrings) -> EncodedStrings {
            let dropped = strings.levels.map { set.contains($0.trimmingCharacters(in: .whitespaces)) }
            guard dropped.contains(true) else { return strings }
            return EncodedStrings(codes: strings.codes.map { $0 != EncodedStrings.missing && dropped[Int($0)] ? EncodedStrings.missing : $0 },
                                  levels: strings.levels)
        }
        var copy = self
        switch values {
        case .categorical(let strings): copy.values = .categorical(clean(strings))
        case .text(let strings): copy.values = .text(clean(strings))
        default: break
        }
        return copy
    }
}
