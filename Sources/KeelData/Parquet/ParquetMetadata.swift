/// The parts of Parquet's Thrift metadata (`parquet.thrift` in apache/parquet-format) that reading flat tables
/// needs; every other field is skipped. Enum values are kept as the file's integers, named below.
enum ParquetPhysical: Int32 {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

enum ParquetEncoding {
    static let plain: Int32 = 0, plainDictionary: Int32 = 2, rle: Int32 = 3, bitPacked: Int32 = 4
    static let deltaBinaryPacked: Int32 = 5, deltaLengthByteArray: Int32 = 6, deltaByteArray: Int32 = 7
    static let rleDictionary: Int32 = 8, byteStreamSplit: Int32 = 9
}

enum ParquetCodec: Int32 {
    case uncompressed = 0, snappy = 1, gzip = 2, lzo = 3, brotli = 4, lz4 = 5, zstd = 6, lz4Raw = 7
}

/// `LogicalType` (the union) with the older `ConvertedType` folded in.
enum ParquetLogical: Equatable {
    enum TimeUnit: Equatable { case millis, micros, nanos }
    case none, string, enumeration, json, uuid, float16, map, list, unknownNull
    case decimal(scale: Int, precision: Int)
    case date
    case time(TimeUnit)
    case timestamp(TimeUnit, utc: Bool)
    case integer(bits: Int, signed: Bool)
    case other(Int16)
}

struct SchemaElement {
    var type: Int32?
    var typeLength: Int32?
    /// 0 required, 1 optional, 2 repeated.
    var repetition: Int32 = 0
    var name = ""
    var childCount: Int32 = 0
    var convertedType: Int32?
    var scale: Int32 = 0
    var precision: Int32 = 0
    var logical: ParquetLogical = .none

    /// The logical type, from `logicalType` when present, else from `converted_type`.
    var effectiveLogical: ParquetLogical {
        if logical != .none { return logical }
        switch convertedType {
        case 0?: return .string
        case 1?, 2?: return .map
        case 3?: return .list
        case 4?: return .enumeration
        case 5?: return .decimal(scale: Int(scale), precision: Int(precision))
        case 6?: return .date
        case 7?: return .time(.millis)
        case 8?: return .time(.micros)
        case 9?: return .timestamp(.millis, utc: true)
        case 10?: return .timestamp(.micros, utc: true)
        case 11?: return .integer(bits: 8, signed: false)
        case 12?: return .integer(bits: 16, signed: false)
        case 13?: return .integer(bits: 32, signed: false)
        case 14?: return .integer(bits: 64, signed: false)
        case 15?: return .integer(bits: 8, signed: true)
        case 16?: return .integer(bits: 16, signed: true)
        case 17?: return .integer(bits: 32, signed: true)
        case 18?: return .integer(bits: 64, signed: true)
        case 19?: return .json
        default: return .none
        }
    }
}

struct ColumnMetadata {
    var type: Int32 = 0
    var path: [String] = []
    var codec: Int32 = 0
    var valueCount: Int64 = 0
    var compressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var dictionaryPageOffset: Int64?
}

struct RowGroupMetadata {
    var columns: [ColumnMetadata?] = []
    var rowCount: Int64 = 0
}

struct FileMetadata {
    var schema: [SchemaElement] = []
    var rowCount: Int64 = 0
    var rowGroups: [RowGroupMetadata] = []
    var createdBy: String?
}

struct PageHeader {
    /// 0 data page, 1 index page, 2 dictionary page, 3 data page v2.
    var type: Int32 = -1
    var uncompressedSize: Int32 = 0
    var compressedSize: Int32 = 0
    var valueCount: Int32 = 0
    var encoding: Int32 = 0
    var definitionEncoding: Int32 = ParquetEncoding.rle
    // Data page v2 only.
    var nullCount: Int32 = 0
    var definitionLength: Int32 = 0
    var repetitionLength: Int32 = 0
    var isCompressed = true
}

extension ThriftReader {
    mutating func fileMetadata() throws -> FileMetadata {
        var meta = FileMetadata()
        try readStruct { r, id, type in
            switch (id, type) {
            case (2, ThriftType.list.rawValue): meta.schema = try r.list { r, _ in try r.schemaElement() }
            case (3, ThriftType.i64.rawValue): meta.rowCount = try r.i64()
            case (4, ThriftType.list.rawValue): meta.rowGroups = try r.list { r, _ in try r.rowGroup() }
            case (6, ThriftType.binary.rawValue): meta.createdBy = try r.string()
            default: try r.skip(type)
            }
        }
        return meta
    }

    private mutating func schemaElement() throws -> SchemaElement {
        var element = SchemaElement()
        try readStruct { r, id, type in
            switch (id, type) {
            case (1, ThriftType.i32.rawValue): element.type = try r.i32()
            case (2, ThriftType.i32.rawValue): element.typeLength = try r.i32()
            case (3, ThriftType.i32.rawValue): element.repetition = try r.i32()
            case (4, ThriftType.binary.rawValue): element.name = try r.string()
            case (5, ThriftType.i32.rawValue): element.childCount = try r.i32()
            case (6, ThriftType.i32.rawValue): element.convertedType = try r.i32()
            case (7, ThriftType.i32.rawValue): element.scale = try r.i32()
            case (8, ThriftType.i32.rawValue): element.precision = try r.i32()
            case (10, ThriftType.structure.rawValue): element.logical = try r.logicalType()
            default: try r.skip(type)
            }
        }
        return element
    }

    private mutating func logicalType() throws -> ParquetLogical {
        var logical = ParquetLogical.none
        try readStruct { r, id, type in
            guard type == ThriftType.structure.rawValue else { return try r.skip(type) }
            switch id {
            case 1: logical = .string
            case 2: logical = .map
            case 3: logical = .list
            case 4: logical = .enumeration
            case 5:
                var scale = 0, precision = 0
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, ThriftType.i32.rawValue): scale = Int(try r.i32())
                    case (2, ThriftType.i32.rawValue): precision = Int(try r.i32())
                    default: try r.skip(type)
                    }
                }
                logical = .decimal(scale: scale, precision: precision)
                return
            case 6: logical = .date
            case 7, 8:
                var utc = false, unit = ParquetLogical.TimeUnit.millis
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, _) where type == ThriftType.boolTrue.rawValue || type == ThriftType.boolFalse.rawValue: utc = r.bool(type)
                    case (2, ThriftType.structure.rawValue):
                        try r.readStruct { r, id, type in
                            unit = id == 3 ? .nanos : id == 2 ? .micros : .millis
                            try r.skip(type)
                        }
                    default: try r.skip(type)
                    }
                }
                logical = id == 7 ? .time(unit) : .timestamp(unit, utc: utc)
                return
            case 10:
                var bits = 64, signed = true
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, ThriftType.byte.rawValue): bits = Int(Int8(bitPattern: try r.byte()))
                    case (2, _) where type == ThriftType.boolTrue.rawValue || type == ThriftType.boolFalse.rawValue: signed = r.bool(type)
                    default: try r.skip(type)
                    }
                }
                logical = .integer(bits: bits, signed: signed)
                return
            case 11: logical = .unknownNull
            case 12: logical = .json
            case 14: logical = .uuid
            case 15: logical = .float16
            default: logical = .other(id)
            }
            try r.skip(type)
        }
        return logical
    }

    private mutating func rowGroup() throws -> RowGroupMetadata {
        var group = RowGroupMetadata()
        try readStruct { r, id, type in
            switch (id, type) {
            case (1, ThriftType.list.rawValue): group.columns = try r.list { r, _ in try r.columnChunk() }
            case (3, ThriftType.i64.rawValue): group.rowCount = try r.i64()
            default: try r.skip(type)
            }
        }
        return group
    }

    private mutating func columnChunk() throws -> ColumnMetadata? {
        var meta: ColumnMetadata?
        try readStruct { r, id, type in
            if id == 3, type == ThriftType.structure.rawValue { meta = try r.columnMetadata() } else { try r.skip(type) }
        }
        return meta
    }

    private mutating func columnMetadata() throws -> ColumnMetadata {
        var meta = ColumnMetadata()
        try readStruct { r, id, type in
            switch (id, type) {
            case (1, ThriftType.i32.rawValue): meta.type = try r.i32()
            case (3, ThriftType.list.rawValue): meta.path = try r.list { r, _ in try r.string() }
            case (4, ThriftType.i32.rawValue): meta.codec = try r.i32()
            case (5, ThriftType.i64.rawValue): meta.valueCount = try r.i64()
            case (7, ThriftType.i64.rawValue): meta.compressedSize = try r.i64()
            case (9, ThriftType.i64.rawValue): meta.dataPageOffset = try r.i64()
            case (11, ThriftType.i64.rawValue): meta.dictionaryPageOffset = try r.i64()
            default: try r.skip(type)
            }
        }
        return meta
    }

    mutating func pageHeader() throws -> PageHeader {
        var page = PageHeader()
        try readStruct { r, id, type in
            switch (id, type) {
            case (1, ThriftType.i32.rawValue): page.type = try r.i32()
            case (2, ThriftType.i32.rawValue): page.uncompressedSize = try r.i32()
            case (3, ThriftType.i32.rawValue): page.compressedSize = try r.i32()
            case (5, ThriftType.structure.rawValue):
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, ThriftType.i32.rawValue): page.valueCount = try r.i32()
                    case (2, ThriftType.i32.rawValue): page.encoding = try r.i32()
                    case (3, ThriftType.i32.rawValue): page.definitionEncoding = try r.i32()
                    default: try r.skip(type)
                    }
                }
            case (7, ThriftType.structure.rawValue):
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, ThriftType.i32.rawValue): page.valueCount = try r.i32()
                    case (2, ThriftType.i32.rawValue): page.encoding = try r.i32()
                    default: try r.skip(type)
                    }
                }
            case (8, ThriftType.structure.rawValue):
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, ThriftType.i32.rawValue): page.valueCount = try r.i32()
                    case (2, ThriftType.i32.rawValue): page.nullCount = try r.i32()
                    case (4, ThriftType.i32.rawValue): page.encoding = try r.i32()
                    case (5, ThriftType.i32.rawValue): page.definitionLength = try r.i32()
                    case (6, ThriftType.i32.rawValue): page.repetitionLength = try r.i32()
                    case (7, _) where type == ThriftType.boolTrue.rawValue || type == ThriftType.boolFalse.rawValue: page.isCompressed = r.bool(type)
                    default: try r.skip(type)
                    }
                }
            default: try r.skip(type)
            }
        }
        return page
    }
}
