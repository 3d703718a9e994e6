import Foundation

/// How to read a Parquet file.
public struct ParquetOptions: Sendable {
    /// Only these columns are read (nil: every column); names the file lacks are left to the caller to report.
    public var columns: Set<String>?
    /// Columns never read (`--ignore`); a nested column here is skipped without a note.
    public var skipping: Set<String> = []
    /// String values that mean "missing" besides nulls; nil: only Parquet's nulls are missing.
    public var missingMarkers: [String]?
    /// String columns kept as strings even when every value reads as a number.
    public var stringColumns: Set<String> = []
    /// As `CSVOptions.wordsAmongNumbers`.
    public var wordsAmongNumbers = true
    /// Threads decoding column chunks.
    public var threads = 2

    public init(columns: Set<String>? = nil, missingMarkers: [String]? = nil) {
        self.columns = columns
        self.missingMarkers = missingMarkers
    }
}

/// Reads Parquet files (flat schemas) into the same typed `Frame` a CSV file of the same data reads as.
///
/// Footer and page headers are decoded by our Thrift compact reader; pages may be v1 or v2, compressed with
/// snappy, gzip or zstd, in every encoding of the format for flat columns (PLAIN, dictionary, RLE,
/// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT). Only the needed columns
/// are read; column chunks decode on `threads` threads straight into the final column storage. String
/// columns go through CSV's typing (numbers, booleans, datetimes, text or categories), so the frame and its
/// fingerprint equal those of the same data written as CSV. Nested columns are an error naming them when
/// asked for, else skipped with a note.
///
/// ```swift
/// let frame = try ParquetReader.read(path: "data.parquet")
/// ```
public enum ParquetReader {
    /// Whether `path` names a Parquet file: by its `.parquet` extension or its first four bytes.
    public static func isParquet(path: String) -> Bool {
        if path.lowercased().hasSuffix(".parquet") || path.lowercased().hasSuffix(".parq") { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)).map { [UInt8]($0) == Array("PAR1".utf8) } ?? false
    }

    public static func read(path: String, options: ParquetOptions = ParquetOptions()) throws -> Frame {
        let file = try ParquetFile(path: path)
        return try read(file, groups: 0..<file.rowGroupCount, options: options)
    }

    /// Reads from bytes in memory (tests, fuzzing); `name` stands for the file in messages.
    public static func read(bytes: [UInt8], name: String = "<memory>", options: ParquetOptions = ParquetOptions()) throws -> Frame {
        let file = try ParquetFile(bytes: bytes, name: name)
        return try read(file, groups: 0..<file.rowGroupCount, options: options)
    }

    /// Reads `path` one row group at a time, calling `body` with each group's frame and its first row.
    public static func readBatches(path: String, options: ParquetOptions = ParquetOptions(),
                                   _ body: (Frame, Int) throws -> Void) throws {
        let file = try ParquetFile(path: path)
        var first = 0
        for group in 0..<max(file.rowGroupCount, 1) {
            let groups = file.rowGroupCount == 0 ? 0..<0 : group..<group + 1
            let frame = try read(file, groups: groups, options: options)
            try body(frame, first)
            first += frame.rowCount
        }
    }

    /// The top-level column names of a Parquet file, nested ones included.
    public static func columnNames(path: String) throws -> [String] {
        try ParquetFile(path: path).fields.map(\.name)
    }

    static func read(_ file: ParquetFile, groups: Range<Int>, options: ParquetOptions) throws -> Frame {
        var notes: [String] = []
        var selected: [ParquetField] = []
        var skipped: [String] = []
        for field in file.fields {
            if options.skipping.contains(field.name) { continue }
            let wanted = options.columns?.contains(field.name) ?? true
            if let nested = field.nested {
                if wanted, options.columns != nil {
                    throw DataError.cannotOpen(file: file.name, reason: "column '\(field.name)' is a nested \(nested) column; Keel reads flat columns only")
                }
                skipped.append("'\(field.name)' (\(nested))")
                continue
            }
            guard wanted else { continue }
            guard field.conversion != nil else {
                throw DataError.cannotOpen(file: file.name, reason: "column '\(field.name)' has an unsupported type (\(field.unsupported ?? "unknown")); leave it out with --ignore \(field.name)")
            }
            selected.append(field)
        }
        if !skipped.isEmpty {
            notes.append("skipped \(skipped.count) nested column(s) of \(file.name), which Keel does not read: \(skipped.joined(separator: ", "))")
        }
        // A row group of no rows has nothing to decode (writers give its chunks no data page at all).
        let nonEmpty = groups.filter { file.rows(inGroup: $0) > 0 }
        let rowCounts = nonEmpty.map { file.rows(inGroup: $0) }
        try checkDecodedSize(file, fields: selected, rowCounts: rowCounts)
        var columns = try ParquetAssembly(file: file, fields: selected, groups: nonEmpty, rowCounts: rowCounts,
                                          threads: options.threads).run()
        for i in columns.indices { columns[i] = typed(columns[i], options: options) }
        var frame = try Frame(columns: columns)
        frame.notes = notes
        return frame
    }

    /// At most this many bytes of decoded columns per byte of file, beyond `decodedFloor`.
    static let decodedPerFileByte = 1_000
    /// Decoded columns up to this size (256 MB) are read whatever the file's size.
    static let decodedFloor = 256 << 20

    /// Refuses row counts whose columns would decode to far more than the file could hold, before anything is
    /// allocated for them: a corrupt footer (or a decompression bomb) must not make Keel ask for terabytes.
    /// Even a run of one value in every column stays well within the ratio for files a writer makes.
    static func checkDecodedSize(_ file: ParquetFile, fields: [ParquetField], rowCounts: [Int]) throws {
        let rowBytes = fields.reduce(0) { total, field in
            switch field.conversion {
            case .doubles?: total + 8
            case .booleans?: total + 1
            case .strings?: total + 4
            case nil: total
            }
        }
        // Sums and products saturate: a footer's counts may be anything up to Int64.max.
        let rows = rowCounts.reduce(0) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 }
        let (product, overflow) = rows.multipliedReportingOverflow(by: max(rowBytes, 1))
        let decoded = overflow ? Int.max : product
        let limit = max(decodedFloor, file.byteCount * decodedPerFileByte)
        guard decoded <= limit else {
            throw DataError.cannotOpen(file: file.name, reason: "its row groups claim \(rows) rows, which would decode to more than "
                + "\(decodedPerFileByte) times the file's \(file.byteCount) bytes (and more than \(decodedFloor >> 20) MB): "
                + "a corrupt footer or a decompression bomb, which Keel does not read")
        }
    }

    /// A string column typed as CSV types it: numbers, then booleans, datetimes, text or categories.
    static func typed(_ column: Column, options: ParquetOptions) -> Column {
        guard case .categorical(var strings) = column.values else { return column }
        if let markers = options.missingMarkers { strings = removing(Set(markers), from: strings) }
        let forced = options.stringColumns.contains(column.name)
        if !forced {
            var numbers: [Double] = []
            numbers.reserveCapacity(strings.levels.count)
            for level in strings.levels {
                var spelled = level
                guard let value = spelled.withUTF8({ NumberParser.parse($0) }) else { break }
                numbers.append(value)
            }
            if numbers.count == strings.levels.count {
                let values = strings.codes.map { $0 == EncodedStrings.missing ? Double.nan : numbers[Int($0)] }
                return Column(name: column.name, values: .numeric(values))
            }
            if options.wordsAmongNumbers, let read = ColumnBuilder.numbers(strings, rules: ColumnBuilder.Rules()) {
                var result = Column(name: column.name, values: .numeric(read.values))
                result.missingWords = read.words
                return result
            }
        }
        return ColumnBuilder.typedStrings(name: column.name, strings)
    }

    /// `strings` with the levels in `markers` made missing; the other levels keep their order.
    private static func removing(_ markers: Set<String>, from strings: EncodedStrings) -> EncodedStrings {
        guard strings.levels.contains(where: markers.contains) else { return strings }
        var remap = [UInt32](repeating: EncodedStrings.missing, count: strings.levels.count)
        var levels: [String] = []
        for (i, level) in strings.levels.enumerated() where !markers.contains(level) {
            remap[i] = UInt32(levels.count)
            levels.append(level)
        }
        let codes = strings.codes.map { $0 == EncodedStrings.missing ? $0 : remap[Int($0)] }
        return EncodedStrings(codes: codes, levels: levels)
    }
}
