/// Writes a flat Parquet file (apache/parquet-format): every column OPTIONAL (definition levels mark nulls),
/// strings as BYTE_ARRAY / STRING dictionary-encoded (a PLAIN dictionary page, then RLE_DICTIONARY indices),
/// doubles as PLAIN DOUBLE; data pages v1, snappy-compressed; one row group per `writeRowGroup` call. The file
/// appears at its path only on `commit()` (through `AtomicFileWriter`), footer and all.
public final class ParquetWriter {
    public enum ColumnType: Sendable { case string, double }

    public struct Column: Sendable {
        public var name: String
        public var type: ColumnType
        public init(name: String, type: ColumnType) {
            self.name = name
            self.type = type
        }
    }

    /// One column's values for a row group; nil is null.
    public enum Values {
        case strings([String?])
        case doubles([Double?])

        var count: Int {
            switch self {
            case .strings(let v): v.count
            case .doubles(let v): v.count
            }
        }
    }

    public var path: String { sink.path }
    public let columns: [Column]
    private let sink: AtomicFileWriter
    private var offset: Int64 = 0
    private var rowGroups: [[UInt8]] = []
    private var rowCount: Int64 = 0

    public init(path: String, columns: [Column]) throws {
        self.columns = columns
        sink = try AtomicFileWriter(path: path)
        try put(Array("PAR1".utf8))
    }

    private func put(_ bytes: [UInt8]) throws {
        try sink.append(bytes)
        offset += Int64(bytes.count)
    }

    /// Writes one row group; `values` holds one entry per column, all of the same length.
    public func writeRowGroup(_ values: [Values]) throws {
        precondition(values.count == columns.count, "one Values per column")
        let rows = values.first?.count ?? 0
        precondition(values.allSatisfy { $0.count == rows }, "columns of one row group have the same length")
        guard rows > 0 else { return }
        var chunks = ThriftWriter()
        var total: Int64 = 0
        var chunkBytes: [[UInt8]] = []
        for (column, value) in zip(columns, values) {
            let start = offset
            var dictionaryOffset: Int64?
            var uncompressed: Int64 = 0
            var encodings: [Int32] = [ParquetEncoding.rle]
            switch value {
            case .strings(let strings):
                var index: [String: UInt32] = [:]
                var dictionary: [UInt8] = []
                var codes: [UInt32] = []
                codes.reserveCapacity(strings.count)
                for case let s? in strings {
                    if let code = index[s] {
                        codes.append(code)
                    } else {
                        let code = UInt32(index.count)
                        index[s] = code
                        Self.plainByteArray(s, into: &dictionary)
                        codes.append(code)
                    }
                }
                dictionaryOffset = offset
                uncompressed += try page(type: 2, body: dictionary, values: index.count, encoding: ParquetEncoding.plain)
                let width = max(1, UInt32(max(index.count - 1, 0)).bitWidth - UInt32(max(index.count - 1, 0)).leadingZeroBitCount)
                var body = Self.definitionLevels(strings.map { $0 != nil })
                body.append(UInt8(width))
                Self.rleRuns(codes, width: width, into: &body)
                encodings += [ParquetEncoding.plain, ParquetEncoding.rleDictionary]
                let dataOffset = offset
                uncompressed += try page(type: 0, body: body, values: strings.count, encoding: ParquetEncoding.rleDictionary)
                chunkBytes.append(Self.chunk(column: column, physical: .byteArray, encodings: encodings, values: rows,
                                             uncompressed: uncompressed, compressed: offset - start,
                                             dataOffset: dataOffset, dictionaryOffset: dictionaryOffset))
            case .doubles(let doubles):
                var body = Self.definitionLevels(doubles.map { $0 != nil })
                body.reserveCapacity(body.count + doubles.count * 8)
                for case let d? in doubles {
                    withUnsafeBytes(of: d.bitPattern.littleEndian) { body += $0 }
                }
                encodings.append(ParquetEncoding.plain)
                let dataOffset = offset
                uncompressed += try page(type: 0, body: body, values: doubles.count, encoding: ParquetEncoding.plain)
                chunkBytes.append(Self.chunk(column: column, physical: .double, encodings: encodings, values: rows,
                                             uncompressed: uncompressed, compressed: offset - start,
                                             dataOffset: dataOffset, dictionaryOffset: nil))
            }
            total += uncompressed
        }
        // RowGroup: columns (1), total_byte_size (2), num_rows (3).
        chunks.beginStruct(nil)
        chunks.listHeader(1, count: chunkBytes.count, of: .structure)
        for chunk in chunkBytes { chunks.bytes += chunk }
        chunks.i64(2, total)
        chunks.i64(3, Int64(rows))
        chunks.endStruct()
        rowGroups.append(chunks.bytes)
        rowCount += Int64(rows)
    }

    /// Writes the footer and moves the file into place.
    public func commit() throws {
        var meta = ThriftWriter()
        meta.beginStruct(nil)
        meta.i32(1, 1)
        meta.listHeader(2, count: columns.count + 1, of: .structure)
        meta.beginStruct(nil)
        meta.string(4, "schema")
        meta.i32(5, Int32(columns.count))
        meta.endStruct()
        for column in columns {
            meta.beginStruct(nil)
            meta.i32(1, column.type == .string ? ParquetPhysical.byteArray.rawValue : ParquetPhysical.double.rawValue)
            meta.i32(3, 1)  // OPTIONAL
            meta.string(4, column.name)
            if column.type == .string {
                meta.i32(6, 0)  // converted_type UTF8
                meta.beginStruct(10)  // logicalType
                meta.beginStruct(1)  // STRING
                meta.endStruct()
                meta.endStruct()
            }
            meta.endStruct()
        }
        meta.i64(3, rowCount)
        meta.listHeader(4, count: rowGroups.count, of: .structure)
        for group in rowGroups { meta.bytes += group }
        meta.string(6, "keel")
        meta.endStruct()
        // The struct began with beginStruct(nil): its stop byte is the last one written.
        var footer = meta.bytes
        withUnsafeBytes(of: UInt32(footer.count).littleEndian) { footer += $0 }
        footer += Array("PAR1".utf8)
        try put(footer)
        try sink.commit()
    }

    /// Writes a page (header and snappy-compressed body); returns its uncompressed size, header included.
    private func page(type: Int32, body: [UInt8], values: Int, encoding: Int32) throws -> Int64 {
        let compressed = body.withUnsafeBytes { ParquetCompression.snappy($0) }
        var header = ThriftWriter()
        header.beginStruct(nil)
        header.i32(1, type)
        header.i32(2, Int32(body.count))
        header.i32(3, Int32(compressed.count))
        if type == 2 {
            header.beginStruct(7)
            header.i32(1, Int32(values))
            header.i32(2, encoding)
            header.endStruct()
        } else {
            header.beginStruct(5)
            header.i32(1, Int32(values))
            header.i32(2, encoding)
            header.i32(3, ParquetEncoding.rle)
            header.i32(4, ParquetEncoding.rle)
            header.endStruct()
        }
        header.endStruct()
        try put(header.bytes)
        try put(compressed)
        return Int64(header.bytes.count + body.count)
    }

    /// A ColumnChunk struct (file_offset, meta_data).
    private static func chunk(column: Column, physical: ParquetPhysical, encodings: [Int32], values: Int, uncompressed: Int64,
                              compressed: Int64, dataOffset: Int64, dictionaryOffset: Int64?) -> [UInt8] {
        var w = ThriftWriter()
        w.beginStruct(nil)
        w.i64(2, dictionaryOffset ?? dataOffset)
        w.beginStruct(3)
        w.i32(1, physical.rawValue)
        w.listHeader(2, count: encodings.count, of: .i32)
        for e in encodings { w.zigzag(Int64(e)) }
        w.listHeader(3, count: 1, of: .binary)
        let name = Array(column.name.utf8)
        w.varint(UInt64(name.count))
        w.bytes += name
        w.i32(4, ParquetCodec.snappy.rawValue)
        w.i64(5, Int64(values))
        w.i64(6, uncompressed)
        w.i64(7, compressed)
        w.i64(9, dataOffset)
        if let dictionaryOffset { w.i64(11, dictionaryOffset) }
        w.endStruct()
        w.endStruct()
        return w.bytes
    }

    private static func plainByteArray(_ s: String, into bytes: inout [UInt8]) {
        let utf8 = Array(s.utf8)
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    /// Definition levels (bit width 1) as RLE runs, with v1's 4-byte length prefix.
    private static func definitionLevels(_ present: [Bool]) -> [UInt8] {
        var runs: [UInt8] = []
        rleRuns(present.map { $0 ? 1 : 0 }, width: 1, into: &runs)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(runs.count).littleEndian) { bytes += $0 }
        return bytes + runs
    }

    /// The RLE / bit-packing hybrid, RLE runs only: per run, a varint (length << 1) and the value in
    /// ceil(width / 8) little-endian bytes.
    private static func rleRuns(_ values: [UInt32], width: Int, into bytes: inout [UInt8]) {
        let valueBytes = (width + 7) / 8
        var i = 0
        while i < values.count {
            var j = i + 1
            while j < values.count && values[j] == values[i] { j += 1 }
            var run = UInt64(j - i) << 1
            while run >= 0x80 {
                bytes.append(UInt8(run & 0x7F) | 0x80)
                run >>= 7
            }
            bytes.append(UInt8(run))
            for b in 0..<valueBytes { bytes.append(UInt8((values[i] >> (8 * UInt32(b))) & 0xFF)) }
            i = j
        }
    }
}
