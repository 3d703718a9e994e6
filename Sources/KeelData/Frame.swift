/// A table of named, typed columns of equal length. Rows are never materialised as objects; a row is an index.
///
/// Copies are cheap (columns are copy-on-write arrays), so a `Frame` can be passed around freely.
public struct Frame: Sendable, Equatable {
    public private(set) var columns: [Column]
    public let rowCount: Int
    private var indexByName: [String: Int]
    /// What reading the file decided for the user and must say: an encoding or number style it detected.
    public var notes: [String] = []
    /// How the file was read: its encoding, and its number style when not plain (decimal comma, grouping).
    public var encoding: TextEncoding = .utf8
    public var numberStyle: NumberStyle?

    /// - Throws: `DataError.invalidFrame` when names repeat or lengths differ.
    public init(columns: [Column]) throws {
        let rowCount = columns.first?.count ?? 0
        var indexByName: [String: Int] = [:]
        for (i, column) in columns.enumerated() {
            guard column.count == rowCount else {
                throw DataError.invalidFrame("column '\(column.name)' has \(column.count) rows, expected \(rowCount)")
            }
            guard indexByName.updateValue(i, forKey: column.name) == nil else {
                throw DataError.invalidFrame("column name '\(column.name)' appears more than once")
            }
        }
        self.columns = columns
        self.rowCount = rowCount
        self.indexByName = indexByName
    }

    public var columnCount: Int { columns.count }
    public var columnNames: [String] { columns.map(\.name) }

    public func index(of name: String) -> Int? { indexByName[name] }

    public subscript(name: String) -> Column? {
        indexByName[name].map { columns[$0] }
    }

    /// Replaces the column with the same name, keeping its position.
    public mutating func replace(_ column: Column) throws {
        guard let i = indexByName[column.name] else { throw DataError.unknownColumn(column.name, available: columnNames) }
        guard column.count == rowCount else {
            throw DataError.invalidFrame("column '\(column.name)' has \(column.count) rows, expected \(rowCount)")
        }
        columns[i] = column
    }

    /// A frame of the given rows (for folds and holdouts). Only the selected rows are copied.
    public func selecting(rows: some Collection<Int>) -> Frame {
        // Names stay unique and lengths equal, so this cannot fail.
        try! Frame(columns: columns.map { $0.selecting(rows) })
    }

    /// A frame of the named columns, in the order given.
    public func selecting(columns names: [String]) throws -> Frame {
        try Frame(columns: names.map { name in
            guard let column = self[name] else { throw DataError.unknownColumn(name, available: columnNames) }
            return column
        })
    }

    /// Total number of missing cells.
    public var missingCellCount: Int { columns.reduce(0) { $0 + $1.missingCount } }
}

extension Frame {
    /// This frame's rows followed by `other`'s, in this frame's columns and kinds: a column `other` lacks is
    /// missing in its rows, columns only `other` has are dropped, and values are converted to this frame's
    /// kind (strings are re-coded, so level codes never clash).
    ///
    /// - Throws: `DataError` when a value of `other` does not fit this frame's kind.
    public func appending(_ other: Frame) throws -> Frame {
        try Frame(columns: columns.map { column in
            let tail: Column
            if let match = other[column.name] {
                tail = match.kind == column.kind ? match : try match.converted(to: column.kind)
            } else {
                tail = Column.missing(name: column.name, kind: column.kind, count: other.rowCount)
            }
            switch (column.values, tail.values) {
            case (.numeric(let a), .numeric(let b)): return Column(name: column.name, values: .numeric(a + b))
            case (.datetime(let a), .datetime(let b)): return Column(name: column.name, values: .datetime(a + b))
            case (.boolean(let a), .boolean(let b)): return Column(name: column.name, values: .boolean(a + b))
            case (.categorical(let a), .categorical(let b)), (.text(let a), .text(let b)):
                var coder = LevelCoder(capacity: a.codes.count + b.codes.count)
                for strings in [a, b] {
                    for code in strings.codes {
                        if code == EncodedStrings.missing { coder.appendMissing() } else { coder.append(strings.levels[Int(code)]) }
                    }
                }
                return Column(name: column.name, values: column.kind == .text ? .text(coder.encoded) : .categorical(coder.encoded))
            default:
                throw DataError.invalidFrame("column '\(column.name)' cannot be appended: \(column.kind.rawValue) and \(tail.kind.rawValue)")
            }
        })
    }
}

extension Column {
    /// A column of `count` missing values of `kind`.
    public static func missing(name: String, kind: ColumnKind, count: Int) -> Column {
        let values: ColumnValues = switch kind {
        case .numeric: .numeric([Double](repeating: .nan, count: count))
        case .datetime: .datetime([Double](repeating: .nan, count: count))
        case .boolean: .boolean([UInt8](repeating: Column.missingBoolean, count: count))
        case .categorical: .categorical(EncodedStrings(codes: [UInt32](repeating: EncodedStrings.missing, count: count), levels: []))
        case .text: .text(EncodedStrings(codes: [UInt32](repeating: EncodedStrings.missing, count: count), levels: []))
        }
        return Column(name: name, values: values)
    }
}
