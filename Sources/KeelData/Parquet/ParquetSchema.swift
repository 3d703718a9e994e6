/// How one Parquet leaf column becomes a Keel column: which Keel kind, and how its stored values convert.
enum LeafConversion: Equatable {
    /// Numbers (or seconds, for datetimes) from fixed-width values.
    case doubles(NumericConversion, ColumnKind)
    case booleans
    /// Byte strings: UTF-8 text, or (uuid) 16 bytes shown as hex.
    case strings(uuid: Bool)
}

enum NumericConversion: Equatable {
    case int32(unsigned: Bool), int64(unsigned: Bool), float, double, float16
    /// Unscaled integers divided by 10^scale.
    case decimal32(scale: Int), decimal64(scale: Int), decimalBytes(scale: Int)
    /// Days since 1970-01-01.
    case date32
    /// Ticks since 1970-01-01 (or since midnight, for times) at `perSecond` ticks a second.
    case ticks32(perSecond: Int64), ticks64(perSecond: Int64)
    /// Nanoseconds of the day then the Julian day (the legacy INT96 timestamp).
    case int96

    /// Bytes per stored value in plain layout; nil for variable-length byte arrays.
    func width(typeLength: Int) -> Int? {
        switch self {
        case .int32, .float, .decimal32, .date32, .ticks32: 4
        case .int64, .double, .decimal64, .ticks64: 8
        case .int96: 12
        case .float16: 2
        case .decimalBytes: typeLength > 0 ? typeLength : nil
        }
    }
}

/// A top-level column of the file: a flat leaf Keel can read, or a nested group it names and skips.
struct ParquetField {
    var name: String
    /// Index of the first leaf (column chunk) of this field in each row group, and how many leaves it has.
    var leaf: Int
    var leafCount: Int
    /// Nil for a readable leaf; otherwise what the column is ("list", "map", "struct", "repeated").
    var nested: String?
    var element: SchemaElement
    var maxDefinition: Int
    var conversion: LeafConversion?
    /// Why the column cannot be read, when its type is unsupported.
    var unsupported: String?
}

enum ParquetSchemaMapping {
    static func fields(_ schema: [SchemaElement]) throws -> [ParquetField] {
        guard let root = schema.first else { throw ThriftError(message: "the schema is empty") }
        var fields: [ParquetField] = []
        var index = 1
        var leaf = 0
        for _ in 0..<max(Int(root.childCount), 0) {
            guard index < schema.count else { throw ThriftError(message: "the schema has fewer elements than its groups say") }
            let element = schema[index]
            let leaves = try countLeaves(schema, at: &index)
            var field = ParquetField(name: element.name, leaf: leaf, leafCount: leaves, nested: nil, element: element,
                                     maxDefinition: element.repetition == 1 ? 1 : 0)
            if element.childCount > 0 || element.type == nil {
                let logical = element.effectiveLogical
                field.nested = logical == .list ? "list" : logical == .map ? "map" : "struct"
            } else if element.repetition == 2 {
                field.nested = "repeated"
            } else {
                (field.conversion, field.unsupported) = conversion(element)
            }
            fields.append(field)
            leaf += leaves
        }
        return fields
    }

    /// Leaves under the element at `index`, moving `index` past its subtree.
    private static func countLeaves(_ schema: [SchemaElement], at index: inout Int, depth: Int = 0) throws -> Int {
        guard index < schema.count, depth < 64 else { throw ThriftError(message: "the schema has fewer elements than its groups say") }
        let element = schema[index]
        index += 1
        guard element.childCount > 0 else { return 1 }
        var leaves = 0
        for _ in 0..<element.childCount { leaves += try countLeaves(schema, at: &index, depth: depth + 1) }
        return leaves
    }

    private static func conversion(_ element: SchemaElement) -> (LeafConversion?, String?) {
        guard let raw = element.type, let physical = ParquetPhysical(rawValue: raw) else { return (nil, "physical type \(element.type ?? -1)") }
        let logical = element.effectiveLogical
        switch (physical, logical) {
        case (.boolean, _): return (.booleans, nil)
        case (.int32, .date): return (.doubles(.date32, .datetime), nil)
        case (.int32, .decimal(let scale, _)): return (.doubles(.decimal32(scale: scale), .numeric), nil)
        case (.int32, .time(.millis)): return (.doubles(.ticks32(perSecond: 1000), .numeric), nil)
        case (.int32, .integer(_, let signed)): return (.doubles(.int32(unsigned: !signed), .numeric), nil)
        case (.int32, _): return (.doubles(.int32(unsigned: false), .numeric), nil)
        case (.int64, .timestamp(let unit, _)): return (.doubles(.ticks64(perSecond: perSecond(unit)), .datetime), nil)
        case (.int64, .time(let unit)): return (.doubles(.ticks64(perSecond: perSecond(unit)), .numeric), nil)
        case (.int64, .decimal(let scale, _)): return (.doubles(.decimal64(scale: scale), .numeric), nil)
        case (.int64, .integer(_, let signed)): return (.doubles(.int64(unsigned: !signed), .numeric), nil)
        case (.int64, _): return (.doubles(.int64(unsigned: false), .numeric), nil)
        case (.int96, _): return (.doubles(.int96, .datetime), nil)
        case (.float, _): return (.doubles(.float, .numeric), nil)
        case (.double, _): return (.doubles(.double, .numeric), nil)
        case (.byteArray, .decimal(let scale, _)), (.fixedLenByteArray, .decimal(let scale, _)):
            return (.doubles(.decimalBytes(scale: scale), .numeric), nil)
        case (.fixedLenByteArray, .float16):
            return element.typeLength == 2 ? (.doubles(.float16, .numeric), nil) : (nil, "FLOAT16 of \(element.typeLength ?? 0) bytes")
        case (.fixedLenByteArray, .uuid): return (.strings(uuid: true), nil)
        case (.byteArray, _), (.fixedLenByteArray, _): return (.strings(uuid: false), nil)
        }
    }

    private static func perSecond(_ unit: ParquetLogical.TimeUnit) -> Int64 {
        switch unit {
        case .millis: 1000
        case .micros: 1_000_000
        case .nanos: 1_000_000_000
        }
    }
}
