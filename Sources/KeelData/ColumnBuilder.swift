/// Accumulates one column's fields while a file streams past and decides its kind.
///
/// A column starts as numbers (8 bytes a row) and switches to dictionary codes (4 bytes a row plus each
/// distinct string once) at its first non-numeric value, so memory tracks the typed result, not the text.
/// Numbers read before the switch are re-spelled canonically ("1.50" becomes "1.5"); pass the column in
/// `CSVOptions.stringColumns` to keep the exact spelling.
struct ColumnBuilder {
    private var numbers: [Double] = []
    private var codes: [UInt32] = []
    private var table = LevelTable()
    private(set) var isNumeric: Bool
    private let forcedStrings: Bool

    init(forceStrings: Bool) {
        isNumeric = !forceStrings
        forcedStrings = forceStrings
    }

    /// How the file's text is decoded and its numbers written, decided once per file.
    struct Rules {
        var encoding: TextEncoding = .utf8
        /// Nil: plain numbers (a decimal point, no grouping).
        var style: NumberStyle?
        var wordsAmongNumbers = true

        /// A field as a number in the file's style; plain numbers go straight to `NumberParser`, others are
        /// rewritten into a small stack buffer first (no allocation per field).
        @inline(__always)
        func parse(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
            guard let style else { return NumberParser.parse(field) }
            return style.parse(field)
        }
    }

    mutating func reserve(_ rows: Int) {
        if isNumeric { numbers.reserveCapacity(rows) } else { codes.reserveCapacity(rows) }
    }

    mutating func appendMissing() {
        if isNumeric { numbers.append(.nan) } else { codes.append(EncodedStrings.missing) }
    }

    /// Appends a present (non-missing), already trimmed field.
    mutating func append(_ field: UnsafeBufferPointer<UInt8>, line: Int, rules: Rules) {
        if isNumeric {
            if let value = rules.parse(field) {
                numbers.append(value)
                return
            }
            switchToStrings(line: line)
        }
        codes.append(table.intern(field, line: line))
    }

    private mutating func switchToStrings(line: Int) {
        isNumeric = false
        codes.reserveCapacity(numbers.capacity)
        for value in numbers {
            if value.isNaN {
                codes.append(EncodedStrings.missing)
            } else {
                var spelled = NumberFormatting.canonical(value)
                codes.append(spelled.withUTF8 { table.intern($0, line: line) })
            }
        }
        numbers = []
    }

    /// The finished column. Strings become booleans when every value is `true`/`false` (any case), datetimes
    /// when every distinct value parses as one, text when values are long, mostly distinct phrases.
    consuming func finish(name: String, file: String, position: Int, rules: Rules = Rules()) throws -> Column {
        if isNumeric { return Column(name: name, values: .numeric(numbers)) }
        var levels: [String] = []
        levels.reserveCapacity(table.count)
        for code in 0..<table.count {
            guard let level = rules.encoding.decode(table.bytes(of: code)) else {
                let location = SourceLocation(file: file, line: table.firstLines[code], column: position, columnName: name)
                throw DataError.malformed(location, "invalid \(rules.encoding.rawValue) in a field (a file in another encoding reads with --encoding latin-1 or --encoding windows-1252)")
            }
            levels.append(level)
        }
        let strings = EncodedStrings(codes: codes, levels: levels)
        if !forcedStrings, rules.wordsAmongNumbers, let read = Self.numbers(strings, rules: rules) {
            var column = Column(name: name, values: .numeric(read.values))
            column.missingWords = read.words
            return column
        }
        return Self.typedStrings(name: name, strings)
    }

    /// A string column's kind once it is not numbers.
    static func typedStrings(name: String, _ strings: EncodedStrings) -> Column {
        if let booleans = Self.booleans(strings) { return Column(name: name, values: .boolean(booleans)) }
        if let seconds = Self.datetimes(strings) { return Column(name: name, values: .datetime(seconds)) }
        if Self.looksLikeText(strings) { return Column(name: name, values: .text(strings)) }
        return Column(name: name, values: .categorical(strings))
    }

    /// Numbers in a column that is mostly numbers with a few words (at most 5 distinct, on at most 10% of
    /// the present rows, beside at least 10 distinct numbers): the words become missing and are counted.
    /// Nil for any other column (codes such as "12-3B", dates and categories stay strings).
    static func numbers(_ strings: EncodedStrings, rules: Rules) -> (values: [Double], words: [String: Int])? {
        guard !strings.levels.isEmpty else { return nil }
        var counts = [Int](repeating: 0, count: strings.levels.count)
        for code in strings.codes where code != EncodedStrings.missing { counts[Int(code)] += 1 }
        let present = counts.reduce(0, +)
        let parsed = strings.levels.map { level -> Double? in
            var spelled = level
            return spelled.withUTF8 { rules.parse($0) }
        }
        let failed = parsed.indices.filter { parsed[$0] == nil }
        let wordRows = failed.reduce(0) { $0 + counts[$1] }
        guard !failed.isEmpty, failed.count <= 5, Double(wordRows) <= 0.1 * Double(present), parsed.count - failed.count >= 10,
              failed.allSatisfy({ i in strings.levels[i].contains { $0.isLetter } && !strings.levels[i].contains { $0.isNumber } }) else { return nil }
        var words: [String: Int] = [:]
        for i in failed { words[strings.levels[i]] = counts[i] }
        let values = strings.codes.map { code in code == EncodedStrings.missing ? Double.nan : parsed[Int(code)] ?? .nan }
        return (values, words)
    }

    private static func booleans(_ strings: EncodedStrings) -> [UInt8]? {
        guard !strings.levels.isEmpty else { return nil }
        var byCode: [UInt8] = []
        for level in strings.levels {
            switch level.lowercased() {
            case "true": byCode.append(1)
            case "false": byCode.append(0)
            default: return nil
            }
        }
        return strings.codes.map { $0 == EncodedStrings.missing ? Column.missingBoolean : byCode[Int($0)] }
    }

    private static func datetimes(_ strings: EncodedStrings) -> [Double]? {
        guard !strings.levels.isEmpty else { return nil }
        var byCode: [Double] = []
        byCode.reserveCapacity(strings.levels.count)
        for level in strings.levels {
            guard let seconds = DateTimeParser.parse(level) else { return nil }
            byCode.append(seconds)
        }
        return strings.codes.map { $0 == EncodedStrings.missing ? .nan : byCode[Int($0)] }
    }

    /// Free text: at least 20 values, mostly distinct, on average 20 or more characters, mostly with spaces.
    static func looksLikeText(_ strings: EncodedStrings) -> Bool {
        let present = strings.codes.reduce(0) { $0 + ($1 == EncodedStrings.missing ? 0 : 1) }
        guard present >= 20, strings.levels.count * 2 >= present else { return false }
        let totalLength = strings.levels.reduce(0) { $0 + $1.utf8.count }
        let withSpaces = strings.levels.reduce(0) { $0 + ($1.contains(" ") ? 1 : 0) }
        return totalLength >= 20 * strings.levels.count && withSpaces * 2 >= strings.levels.count
    }
}
