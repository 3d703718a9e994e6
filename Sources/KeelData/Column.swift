/// The storage kind of a column. Numeric and datetime values are `Double` (NaN = missing; datetimes are
/// seconds since 1970-01-01 UTC), categorical and text values are dictionary codes into `levels`, booleans
/// are one byte each.
public enum ColumnKind: String, Codable, Sendable, CaseIterable {
    case numeric, categorical, boolean, datetime, text
}

/// Dictionary-encoded strings: one code per row, one string per distinct value, in order of first appearance.
public struct EncodedStrings: Sendable, Equatable {
    /// The code that marks a missing value; never an index into `levels`.
    public static let missing = UInt32.max

    public var codes: [UInt32]
    public var levels: [String]

    public init(codes: [UInt32], levels: [String]) {
        self.codes = codes
        self.levels = levels
    }

    /// The string at `row`, or nil when it is missing.
    public func value(at row: Int) -> String? {
        let code = codes[row]
        return code == Self.missing ? nil : levels[Int(code)]
    }
}

/// A column's values, stored contiguously in the representation its kind calls for.
public enum ColumnValues: Sendable, Equatable {
    case numeric([Double])
    case categorical(EncodedStrings)
    /// 0 = false, 1 = true, `Column.missingBoolean` = missing.
    case boolean([UInt8])
    case datetime([Double])
    case text(EncodedStrings)
}

/// A named, typed column of a `Frame`.
public struct Column: Sendable, Equatable {
    public static let missingBoolean: UInt8 = 255

    public var name: String
    public var values: ColumnValues
    /// Words a mostly numeric column held, read as missing (`"unknown"`, `"forty"`), with their counts; empty
    /// for every other column. Schema inference records them, so scoring treats the same words alike.
    public var missingWords: [String: Int] = [:]

    public init(name: String, values: ColumnValues) {
        self.name = name
        self.values = values
    }

    public var kind: ColumnKind {
        switch values {
        case .numeric: .numeric
        case .categorical: .categorical
        case .boolean: .boolean
        case .datetime: .datetime
        case .text: .text
        }
    }

    public var count: Int {
        switch values {
        case .numeric(let v), .datetime(let v): v.count
        case .categorical(let s), .text(let s): s.codes.count
        case .boolean(let b): b.count
        }
    }

    public func isMissing(at row: Int) -> Bool {
        switch values {
        case .numeric(let v), .datetime(let v): v[row].isNaN
        case .categorical(let s), .text(let s): s.codes[row] == EncodedStrings.missing
        case .boolean(let b): b[row] == Self.missingBoolean
        }
    }

    /// Number of missing values.
    public var missingCount: Int {
        switch values {
        case .numeric(let v), .datetime(let v): v.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
        case .categorical(let s), .text(let s): s.codes.reduce(0) { $0 + ($1 == EncodedStrings.missing ? 1 : 0) }
        case .boolean(let b): b.reduce(0) { $0 + ($1 == Self.missingBoolean ? 1 : 0) }
        }
    }

    /// The value at `row` as the text a user would read, or nil when it is missing.
    public func displayValue(at row: Int) -> String? {
        switch values {
        case .numeric(let v): v[row].isNaN ? nil : NumberFormatting.canonical(v[row])
        case .datetime(let v): v[row].isNaN ? nil : DateTimeParser.format(v[row])
        case .categorical(let s), .text(let s): s.value(at: row)
        case .boolean(let b): b[row] == Self.missingBoolean ? nil : (b[row] == 1 ? "true" : "false")
        }
    }

    /// A new column holding `rows`, in that order.
    public func selecting(_ rows: some Collection<Int>) -> Column {
        switch values {
        case .numeric(let v): Column(name: name, values: .numeric(rows.map { v[$0] }))
        case .datetime(let v): Column(name: name, values: .datetime(rows.map { v[$0] }))
        case .boolean(let b): Column(name: name, values: .boolean(rows.map { b[$0] }))
        case .categorical(let s):
            Column(name: name, values: .categorical(EncodedStrings(codes: rows.map { s.codes[$0] }, levels: s.levels)))
        case .text(let s):
            Column(name: name, values: .text(EncodedStrings(codes: rows.map { s.codes[$0] }, levels: s.levels)))
        }
    }
}

/// Number spelling shared by display, level conversion and reports.
public enum NumberFormatting {
    /// Integers without a fraction ("3", not "3.0"); everything else in Swift's shortest round-trip form.
    public static func canonical(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }
}
