/// A table of named, typed columns of equal length. Rows are never materialised as objects; a row is an index.
///
/// Copies are cheap (columns are copy-on-write arrays), so a `Frame` can be passed around freely.
public struct Frame: Sendable, Equatable {
    public private(set) var columns: [Column]
    public let rowCount: Int
    private var indexByName: [String: Int]

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
