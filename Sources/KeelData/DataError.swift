/// A position in a text file: 1-based line, and the 1-based column (field) number with its name when known.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int?
    public var columnName: String?

    public init(file: String, line: Int, column: Int? = nil, columnName: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.columnName = columnName
    }

    public var description: String {
        var text = "\(file):\(line)"
        if let column {
            text += ", column \(column)"
            if let columnName { text += " ('\(columnName)')" }
        }
        return text
    }
}

/// Errors from reading and describing data. Each message says what went wrong and where, in one sentence.
public enum DataError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(file: String, reason: String)
    case emptyFile(file: String)
    case noDataRows(file: String)
    /// A file with columns (a Parquet schema) but no rows.
    case noRows(file: String)
    case malformed(SourceLocation, String)
    case invalidHeader(file: String, String)
    case unknownColumn(String, available: [String])
    case invalidFrame(String)
    case invalidValue(SourceLocation?, String)
    case invalidSchema(String)
    case invalidSplit(String)

    public var description: String {
        switch self {
        case .cannotOpen(let file, let reason): "cannot open \(file): \(reason)"
        case .emptyFile(let file): "\(file) is empty"
        case .noDataRows(let file): "\(file) has a header but no data rows"
        case .noRows(let file): "\(file) has columns but no rows"
        case .malformed(let location, let message): "\(location): \(message)"
        case .invalidHeader(let file, let message): "\(file):1: \(message)"
        case .unknownColumn(let name, let available):
            "unknown column '\(name)'; the columns are: \(available.joined(separator: ", "))"
        case .invalidFrame(let message), .invalidSchema(let message), .invalidSplit(let message): message
        case .invalidValue(let location, let message): location.map { "\($0): \(message)" } ?? message
        }
    }
}
