/// How to read a delimited text file. The defaults read what spreadsheets and pandas write.
public struct CSVOptions: Sendable {
    /// The field separator; nil detects one of `,` `;` tab `|` from the first lines.
    public var delimiter: UInt8?
    public var hasHeader: Bool
    /// Field values that mean "missing" (compared after trimming spaces, case-sensitively).
    public var missingMarkers: [String]
    /// Columns kept as strings even when every value parses as a number (zip codes, account numbers).
    public var stringColumns: Set<String>
    /// The file's character encoding; nil detects UTF-8 or, when the bytes are not UTF-8 but are letters in
    /// it, Windows-1252 (said in `Frame.notes`).
    public var encoding: TextEncoding?
    /// The decimal mark (`.` or `,`); nil detects, per column that does not read as plain numbers.
    public var decimal: Character?
    /// The thousands separator (`,` `.` space); nil detects; `-` means none.
    public var thousands: Character?
    /// Read a mostly numeric column with a few words as numbers, the words missing (`Column.missingWords`).
    /// Training reads so; scoring turns it off, so that only the words training saw are missing and any
    /// other word is an error naming its line.
    public var wordsAmongNumbers = true
    /// The file's format; nil decides by the extension and the first bytes (`PAR1` is Parquet).
    public var format: DataFormat?
    /// Parquet only: read just these columns (nil: all). CSV files are always read whole.
    public var columns: Set<String>?
    /// Parquet only: columns never read (`--ignore`).
    public var skipColumns: Set<String> = []

    public static let defaultMissingMarkers = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "?"]
    public static let detectableDelimiters: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t"), UInt8(ascii: "|")]

    public init(
        delimiter: UInt8? = nil,
        hasHeader: Bool = true,
        missingMarkers: [String] = CSVOptions.defaultMissingMarkers,
        stringColumns: Set<String> = []
    ) {
        self.delimiter = delimiter
        self.hasHeader = hasHeader
        self.missingMarkers = missingMarkers
        self.stringColumns = stringColumns
    }
}

/// The formats Keel reads.
public enum DataFormat: String, Sendable, CaseIterable {
    case csv, parquet
}

extension CSVOptions {
    /// Whether `path` is read as Parquet: `format`, else the extension and the first bytes.
    public func isParquet(_ path: String) -> Bool {
        switch format {
        case .parquet?: true
        case .csv?: false
        case nil: ParquetReader.isParquet(path: path)
        }
    }

    /// The columns of a Parquet file that `columns` leaves unread (CSV files and standard input are read whole).
    public func unreadColumns(of path: String) throws -> [String] {
        guard path != "-", isParquet(path), let columns else { return [] }
        return try ParquetReader.columnNames(path: path).filter { !columns.contains($0) }
    }

    /// What `unreadColumns(of:)` found, as the note a command prints (nil when every column is read).
    public func unreadColumnsNote(of path: String) throws -> String? {
        let unread = try unreadColumns(of: path)
        guard !unread.isEmpty else { return nil }
        return "note: not read from \(path): \(unread.count) column(s) the model does not use: \(unread.joined(separator: ", "))"
    }

    /// The same settings for a Parquet file. Missing markers apply to its strings only when they differ from
    /// the defaults (given with `--missing`): otherwise only Parquet's nulls are missing and "NA" is a string.
    public var parquet: ParquetOptions {
        var options = ParquetOptions(columns: columns, missingMarkers: missingMarkers == Self.defaultMissingMarkers ? nil : missingMarkers)
        options.skipping = skipColumns
        options.stringColumns = stringColumns
        options.wordsAmongNumbers = wordsAmongNumbers
        return options
    }
}
