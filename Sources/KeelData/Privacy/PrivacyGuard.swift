import Foundation

/// Applies a schema's privacy rules to data, wherever data enters Keel: a training file before anything is
/// kept, a file `keel predict` scores, a request `keel serve` answers. What leaves the guard is all that
/// models, snapshots, profiles, logs, reviews and reports ever see.
public struct PrivacyGuard: Sendable {
    /// What is done to one column's values.
    public enum Operation: Sendable, Equatable {
        case drop
        case pseudonymise
        /// Numbers to the lower end of their band: 37 → 30 for a width of 10.
        case band(Double)
        /// Text to its first N characters; nil: the part before the first space, else the first 3 characters
        /// (`SW1A 1AA` → `SW1A`, `90210` → `902`).
        case prefix(Int?)
        /// Dates to the first day of their month or year.
        case month
        case year
    }

    /// Column name → operation, for the columns the rules change (`keep` is no operation).
    public let operations: [String: Operation]
    let pseudonymiser: (any Pseudonymiser)?

    /// `keySource` names where the key comes from (`--pii-key-file FILE or KEEL_PII_KEY`) for the error
    /// when the schema pseudonymises a column and no key was given.
    public init(schema: Schema, pseudonymiser: (any Pseudonymiser)?, keySource: String) throws {
        var operations: [String: Operation] = [:]
        for column in schema.columns {
            guard let rule = schema.privacy?[column.name] else { continue }
            switch rule {
            case .keep: continue
            case .drop: operations[column.name] = .drop
            case .pseudonymise: operations[column.name] = .pseudonymise
            case .generalise(let level):
                // Whole-number codes read as categories (3 to 10 distinct ages) are still numbers to band.
                let kind = column.flags.contains(.integerCodes) ? .numeric : column.kind
                switch (kind, level) {
                case (.datetime, .year): operations[column.name] = .year
                case (.datetime, _): operations[column.name] = .month
                case (.numeric, .width(let width)): operations[column.name] = .band(width)
                case (.numeric, _): operations[column.name] = .band(10)
                case (_, .width(let width)): operations[column.name] = .prefix(Int(min(max(width, 1), 64)))
                default: operations[column.name] = .prefix(nil)
                }
            }
        }
        let pseudonymised = operations.filter { $0.value == .pseudonymise }.keys.sorted()
        if !pseudonymised.isEmpty {
            guard let pseudonymiser else {
                throw DataError.invalidSchema("the schema pseudonymises \(pseudonymised.map { "'\($0)'" }.joined(separator: ", ")), which needs the key: give \(keySource)")
            }
            if let recorded = schema.pseudonymKeyCheck, recorded != pseudonymiser.keyCheck {
                throw DataError.invalidSchema("the key given (\(keySource)) is not the key \(pseudonymised.map { "'\($0)'" }.joined(separator: ", ")) was pseudonymised with in training (key check \(recorded), this key's \(pseudonymiser.keyCheck)); every token would differ")
            }
        }
        self.operations = operations
        self.pseudonymiser = pseudonymiser
    }

    public var isEmpty: Bool { operations.isEmpty }

    /// What the rules do to the columns `frame` has, one line each, for the terminal of a command that scores
    /// or reads data for a model: nothing is dropped or changed without a word.
    public func notes(for frame: Frame) -> [String] {
        operations.sorted { $0.key < $1.key }.filter { frame[$0.key] != nil }.map { name, operation in
            "privacy: \(operation == .drop ? "dropping" : "applying the model's rule to") '\(name)' (the model's privacy policy)"
        }
    }

    public var dropped: Set<String> { Set(operations.filter { $0.value == .drop }.keys) }

    /// The frame with dropped columns removed and the others transformed; the file's reading facts kept.
    public func apply(_ frame: Frame) throws -> Frame {
        guard operations.contains(where: { frame[$0.key] != nil }) else { return frame }
        var columns: [Column] = []
        columns.reserveCapacity(frame.columnCount)
        for column in frame.columns {
            guard let operation = operations[column.name] else { columns.append(column); continue }
            if operation == .drop { continue }
            columns.append(try transform(column, operation))
        }
        var result = try Frame(columns: columns)
        (result.notes, result.encoding, result.numberStyle) = (frame.notes, frame.encoding, frame.numberStyle)
        return result
    }

    /// One column's values under `operation` (not `.drop`).
    func transform(_ column: Column, _ operation: Operation) throws -> Column {
        var result = column
        result.missingWords = [:]
        switch (column.values, operation) {
        case (.numeric(let values), .band(let width)):
            result.values = .numeric(values.map { Self.band($0, width) })
        case (.datetime(let values), .month), (.datetime(let values), .year):
            let year = operation == .year
            result.values = .datetime(values.map { Self.truncate($0, toYear: year) })
        case (.categorical(let strings), _):
            result.values = .categorical(map(strings, operation))
        case (.text(let strings), _):
            result.values = .text(map(strings, operation))
        default:
            // Numbers, dates or flags read as text first (pseudonyms and prefixes are of their spelling).
            result = try column.converted(to: .categorical)
            guard case .categorical(let strings) = result.values else { return result }
            result.values = .categorical(map(strings, operation))
        }
        return result
    }

    /// Maps each distinct value once; values that become equal share one level. Pseudonyms are distinct for
    /// distinct values (a collision of HMAC-SHA256 is not a practical event), so the codes stay as they are and
    /// the levels are made on every core.
    private func map(_ strings: EncodedStrings, _ operation: Operation) -> EncodedStrings {
        if operation == .pseudonymise, let pseudonymiser {
            let levels = strings.levels
            var mapped = [String](repeating: "", count: levels.count)
            let chunk = 4_096
            mapped.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let target = out
                DispatchQueue.concurrentPerform(iterations: (levels.count + chunk - 1) / chunk) { c in
                    for i in c * chunk..<min(levels.count, (c + 1) * chunk) { target[i] = pseudonymiser.pseudonym(levels[i]) }
                }
            }
            return EncodedStrings(codes: strings.codes, levels: mapped)
        }
        var coder = LevelCoder(capacity: 0)
        let codeOfLevel = strings.levels.map { level -> UInt32 in
            coder.append(value(level, operation))
            return coder.codes.last!
        }
        let levels = coder.levels
        return EncodedStrings(codes: strings.codes.map { $0 == EncodedStrings.missing ? $0 : codeOfLevel[Int($0)] }, levels: levels)
    }

    /// One spelled value under `operation`: what a request's string becomes. A number or date that does not
    /// parse is left as it is, for the input contract to refuse with its own message.
    public func value(_ text: String, _ operation: Operation) -> String {
        switch operation {
        case .drop: return ""
        case .pseudonymise: return pseudonymiser!.pseudonym(text)
        case .band(let width):
            guard let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite else { return text }
            return NumberFormatting.canonical(Self.band(number, width))
        case .prefix(let length):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if let length { return String(trimmed.filter { $0 != " " }.prefix(length)) }
            if let space = trimmed.firstIndex(of: " ") { return String(trimmed[..<space]) }
            return String(trimmed.prefix(3))
        case .month, .year:
            guard let seconds = DateTimeParser.parse(text.trimmingCharacters(in: .whitespaces)) else { return text }
            return DateTimeParser.format(Self.truncate(seconds, toYear: operation == .year))
        }
    }

    /// A number under `operation`: bands for numbers; pseudonyms and prefixes of its canonical spelling.
    public func value(_ number: Double, _ operation: Operation) -> (number: Double?, text: String?) {
        switch operation {
        case .band(let width): (Self.band(number, width), nil)
        // A date arrives as text; a number is left for the input contract to judge.
        case .month, .year: (number, nil)
        default: (nil, value(NumberFormatting.canonical(number), operation))
        }
    }

    static func band(_ value: Double, _ width: Double) -> Double {
        guard value.isFinite, width > 0 else { return value }
        let banded = (value / width).rounded(.down) * width
        return banded.isFinite ? banded : value
    }

    static func truncate(_ seconds: Double, toYear: Bool) -> Double {
        // Beyond ±3 million years a date is no date: left for the input contract to refuse.
        guard seconds.isFinite, abs(seconds) < 1e14 else { return seconds }
        let (year, month, _) = DateTimeParser.civilFromDays(Int((seconds / 86_400).rounded(.down)))
        return Double(DateTimeParser.daysFromCivil(year: year, month: toYear ? 1 : month, day: 1)) * 86_400
    }
}
