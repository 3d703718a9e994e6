/// Where one column chunk's rows go: a slice of the column's final storage, one slot per row of the row group.
enum ChunkOutput {
    case doubles(UnsafeMutablePointer<Double>)
    case booleans(UnsafeMutablePointer<UInt8>)
    /// Codes into the decoder's own `table` (the caller re-codes them into the column's levels).
    case codes(UnsafeMutablePointer<UInt32>)
}

/// Decodes the pages of one column chunk (an optional dictionary page, then data pages v1 or v2) into
/// `ChunkOutput`. Scratch buffers are reused from page to page; a required column's values decode straight
/// into the output, an optional column's into scratch and then scatter around its nulls.
struct ChunkDecoder {
    let conversion: LeafConversion
    let codec: ParquetCodec
    let maxDefinition: Int
    let typeLength: Int
    let physical: ParquetPhysical
    /// Local intern table of a string column's values.
    var table = LevelTable()

    private var page: [UInt8] = []
    private var levels: [UInt32] = []
    private var indices: [UInt32] = []
    private var plain: [UInt8] = []
    private var dense: [Double] = []
    private var denseBytes: [UInt8] = []
    private var denseCodes: [UInt32] = []
    private var deltas: [Int64] = []
    private var byteScratch = ByteArrayDecoder.Scratch()
    private var dictionaryDoubles: [Double]?
    private var dictionaryCodes: [UInt32]?

    /// Pages larger than this (uncompressed) are refused, so a corrupt header cannot ask for unbounded memory.
    static let maxPageBytes = 1 << 30

    init(field: ParquetField, conversion: LeafConversion, codec: ParquetCodec) {
        self.conversion = conversion
        self.codec = codec
        maxDefinition = field.maxDefinition
        typeLength = Int(field.element.typeLength ?? 0)
        physical = ParquetPhysical(rawValue: field.element.type ?? 0) ?? .byteArray
    }

    mutating func decode(chunk: [UInt8], rows: Int, into output: ChunkOutput) throws {
        var position = 0
        var row = 0
        while row < rows {
            guard position < chunk.count else { throw EncodingError(message: "the column chunk ends after \(row) of its \(rows) values") }
            var reader = ThriftReader(chunk, from: position)
            let header: PageHeader
            do { header = try reader.pageHeader() } catch let error as ThriftError { throw EncodingError(message: "bad page header at byte \(position) of the chunk: \(error.message)") }
            position = reader.position
            let size = Int(header.compressedSize)
            guard size >= 0, size <= chunk.count - position else { throw EncodingError(message: "a page runs past the end of the column chunk") }
            guard header.uncompressedSize >= 0, Int(header.uncompressedSize) <= Self.maxPageBytes else {
                throw EncodingError(message: "a page claims \(header.uncompressedSize) bytes")
            }
            try chunk.withUnsafeBytes { all in
                let body = UnsafeRawBufferPointer(rebasing: all[position..<position + size])
                switch header.type {
                case 2: try dictionaryPage(header, body)
                case 0: row += try dataPage(header, body, v2: false, row: row, rows: rows, output: output)
                case 3: row += try dataPage(header, body, v2: true, row: row, rows: rows, output: output)
                default: break
                }
            }
            position += size
        }
    }

    /// The largest uncompressed page Keel reads (256 MB): a size beyond it is a corrupt header.
    static let largestPage = 256 << 20

    /// `body` decompressed into `buffer` (or used in place when not compressed). Static, with the buffer moved
    /// out of `self`, so that `use` may mutate the decoder.
    private static func inflate(_ codec: ParquetCodec, _ body: UnsafeRawBufferPointer, size: Int, compressed: Bool = true,
                                buffer: inout [UInt8], _ use: (UnsafeRawBufferPointer) throws -> Void) throws {
        if codec == .uncompressed || !compressed {
            guard body.count == size else { throw EncodingError(message: "page is \(body.count) bytes, its header says \(size)") }
            return try use(body)
        }
        guard size >= 0 else { throw EncodingError(message: "a page claims \(size) bytes") }
        // A header's size is believed only within reason, so that a corrupt one cannot make Keel allocate
        // gigabytes: writers keep pages near 1 MB, and no codec expands a page by more than about 1,000x
        // (zlib's limit) beyond what a run of one value gives.
        guard size <= Self.largestPage else {
            throw EncodingError(message: "a page claims \(size) bytes uncompressed, more than Keel reads in one page (\(Self.largestPage >> 20) MB)")
        }
        if buffer.count < size { buffer = [UInt8](unsafeUninitializedCapacity: size) { _, count in count = size } }
        try buffer.withUnsafeMutableBytes { all in
            let out = UnsafeMutableRawBufferPointer(rebasing: all[0..<size])
            do { try ParquetCompression.decompress(codec, body, into: out) } catch let failure as ParquetCompression.Failure {
                throw EncodingError(message: failure.message)
            }
            try use(UnsafeRawBufferPointer(out))
        }
    }

    private mutating func inflated(_ body: UnsafeRawBufferPointer, size: Int, compressed: Bool = true,
                                   _ use: (inout ChunkDecoder, UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer: [UInt8] = []
        swap(&buffer, &page)
        defer { swap(&buffer, &page) }
        try Self.inflate(codec, body, size: size, compressed: compressed, buffer: &buffer) { data in try use(&self, data) }
    }

    private mutating func dictionaryPage(_ header: PageHeader, _ body: UnsafeRawBufferPointer) throws {
        let count = Int(header.valueCount)
        guard count >= 0 else { throw EncodingError(message: "negative dictionary size") }
        // Every PLAIN value of a dictionary takes at least a byte (strings four, for their length).
        guard count <= max(Int(header.uncompressedSize), 0) else {
            throw EncodingError(message: "the dictionary page claims \(count) values in \(header.uncompressedSize) bytes")
        }
        guard header.encoding == ParquetEncoding.plain || header.encoding == ParquetEncoding.plainDictionary else {
            throw EncodingError(message: "dictionary page encoding \(header.encoding) is not PLAIN")
        }
        try inflated(body, size: Int(header.uncompressedSize)) { decoder, data in
            switch decoder.conversion {
            case .doubles(let numeric, _):
                var values = [Double](repeating: 0, count: count)
                try values.withUnsafeMutableBufferPointer { out in
                    try decoder.decodeNumbers(ParquetEncoding.plain, data, count: count, numeric: numeric, into: out.baseAddress!)
                }
                decoder.dictionaryDoubles = values
            case .strings:
                var codes = [UInt32](repeating: 0, count: count)
                try codes.withUnsafeMutableBufferPointer { out in
                    try decoder.decodeStrings(ParquetEncoding.plain, data, count: count, into: out.baseAddress!)
                }
                decoder.dictionaryCodes = codes
            case .booleans:
                throw EncodingError(message: "a dictionary page in a boolean column")
            }
        }
    }

    /// Decodes one data page into rows `row...`; returns how many rows it held.
    private mutating func dataPage(_ header: PageHeader, _ body: UnsafeRawBufferPointer, v2: Bool, row: Int, rows: Int,
                                   output: ChunkOutput) throws -> Int {
        let count = Int(header.valueCount)
        guard count >= 0, count <= rows - row else { throw EncodingError(message: "the pages hold more values than the row group's \(rows) rows") }
        if v2 {
            let levelBytes = Int(header.definitionLength) + Int(header.repetitionLength)
            guard header.definitionLength >= 0, header.repetitionLength == 0 || maxDefinition >= 0, header.repetitionLength >= 0,
                  levelBytes <= body.count else { throw EncodingError(message: "page levels run past the page") }
            var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: body[Int(header.repetitionLength)..<levelBytes]))
            let present = try definitionLevels(&cursor, count: count, prefixed: false)
            let values = UnsafeRawBufferPointer(rebasing: body[levelBytes...])
            try inflated(values, size: Int(header.uncompressedSize) - levelBytes, compressed: header.isCompressed) { decoder, data in
                try decoder.values(header.encoding, data, count: count, present: present, row: row, output: output)
            }
        } else {
            try inflated(body, size: Int(header.uncompressedSize)) { decoder, data in
                var cursor = ByteCursor(data)
                guard header.definitionEncoding == ParquetEncoding.rle || decoder.maxDefinition == 0 else {
                    throw EncodingError(message: "definition levels in encoding \(header.definitionEncoding) (only RLE is read)")
                }
                let present = try decoder.definitionLevels(&cursor, count: count, prefixed: true)
                try decoder.values(header.encoding, UnsafeRawBufferPointer(rebasing: data[cursor.position...]), count: count,
                                present: present, row: row, output: output)
            }
        }
        return count
    }

    /// Decodes the definition levels into `levels`; returns how many values are present (not null).
    private mutating func definitionLevels(_ cursor: inout ByteCursor, count: Int, prefixed: Bool) throws -> Int {
        guard maxDefinition > 0 else { return count }
        var section = cursor
        if prefixed {
            let length = Int(try cursor.uint32())
            section = ByteCursor(try cursor.take(length))
        }
        if levels.count < count { levels = [UInt32](repeating: 0, count: count) }
        let maximum = UInt32(maxDefinition)
        return try levels.withUnsafeMutableBufferPointer { out in
            try HybridDecoder.decode(&section, width: 1, count: count, into: out.baseAddress!)
            var present = 0
            for i in 0..<count where out[i] == maximum { present += 1 }
            return present
        }
    }

    private mutating func values(_ encoding: Int32, _ data: UnsafeRawBufferPointer, count: Int, present: Int, row: Int,
                                 output: ChunkOutput) throws {
        let required = maxDefinition == 0
        switch output {
        case .doubles(let out):
            guard case .doubles(let numeric, _) = conversion else { return }
            if required { return try decodeNumbers(encoding, data, count: count, numeric: numeric, into: out + row) }
            var dense: [Double] = []
            swap(&dense, &self.dense)
            defer { swap(&dense, &self.dense) }
            if dense.count < present { dense = [Double](repeating: 0, count: present) }
            try dense.withUnsafeMutableBufferPointer { try decodeNumbers(encoding, data, count: present, numeric: numeric, into: $0.baseAddress!) }
            scatter(dense, present: present, count: count, into: out + row, missing: .nan)
        case .booleans(let out):
            if required { return try decodeBooleans(encoding, data, count: count, into: out + row) }
            var denseBytes: [UInt8] = []
            swap(&denseBytes, &self.denseBytes)
            defer { swap(&denseBytes, &self.denseBytes) }
            if denseBytes.count < present { denseBytes = [UInt8](repeating: 0, count: present) }
            try denseBytes.withUnsafeMutableBufferPointer { try decodeBooleans(encoding, data, count: present, into: $0.baseAddress!) }
            scatter(denseBytes, present: present, count: count, into: out + row, missing: Column.missingBoolean)
        case .codes(let out):
            if required { return try decodeStrings(encoding, data, count: count, into: out + row) }
            var denseCodes: [UInt32] = []
            swap(&denseCodes, &self.denseCodes)
            defer { swap(&denseCodes, &self.denseCodes) }
            if denseCodes.count < present { denseCodes = [UInt32](repeating: 0, count: present) }
            try denseCodes.withUnsafeMutableBufferPointer { try decodeStrings(encoding, data, count: present, into: $0.baseAddress!) }
            scatter(denseCodes, present: present, count: count, into: out + row, missing: EncodedStrings.missing)
        }
    }

    private func scatter<T>(_ dense: [T], present: Int, count: Int, into out: UnsafeMutablePointer<T>, missing: T) {
        let maximum = UInt32(maxDefinition)
        levels.withUnsafeBufferPointer { levels in
            dense.withUnsafeBufferPointer { dense in
                var next = 0
                for i in 0..<count {
                    if levels[i] == maximum {
                        out[i] = dense[next]
                        next += 1
                    } else {
                        out[i] = missing
                    }
                }
            }
        }
    }

    /// Dictionary indices (a bit-width byte, then the hybrid encoding) into `indices`, each checked against `size`.
    private mutating func dictionaryIndices(_ data: UnsafeRawBufferPointer, count: Int, size: Int) throws {
        var cursor = ByteCursor(data)
        let width = Int(try cursor.byte())
        if indices.count < count { indices = [UInt32](repeating: 0, count: count) }
        try indices.withUnsafeMutableBufferPointer { out in
            try HybridDecoder.decode(&cursor, width: width, count: count, into: out.baseAddress!)
            for i in 0..<count where Int(out[i]) >= size {
                throw EncodingError(message: "dictionary index \(out[i]) out of range (the dictionary has \(size) values)")
            }
        }
    }

    private mutating func decodeNumbers(_ encoding: Int32, _ data: UnsafeRawBufferPointer, count: Int, numeric: NumericConversion,
                                        into out: UnsafeMutablePointer<Double>) throws {
        let width = numeric.width(typeLength: typeLength)
        switch encoding {
        case ParquetEncoding.plain:
            if let width {
                guard width * count <= data.count else { throw EncodingError(message: "the page holds fewer values than its header says") }
                NumberConversion.convert(data, count: count, numeric: numeric, width: width, into: out)
            } else {
                var i = 0
                try ByteArrayDecoder.plain(data, count: count) { bytes in
                    out[i] = NumberConversion.decimal(bytes, numeric: numeric)
                    i += 1
                }
            }
        case ParquetEncoding.plainDictionary, ParquetEncoding.rleDictionary:
            guard let dictionary = dictionaryDoubles else { throw EncodingError(message: "a dictionary-encoded page without a dictionary page") }
            try dictionaryIndices(data, count: count, size: dictionary.count)
            indices.withUnsafeBufferPointer { idx in
                dictionary.withUnsafeBufferPointer { dict in
                    for i in 0..<count { out[i] = dict[Int(idx[i])] }
                }
            }
        case ParquetEncoding.deltaBinaryPacked:
            guard physical == .int32 || physical == .int64, let width else { throw EncodingError(message: "DELTA_BINARY_PACKED on a \(physical) column") }
            var cursor = ByteCursor(data)
            try DeltaDecoder.decode(&cursor, limit: count, into: &deltas)
            guard deltas.count == count else { throw EncodingError(message: "DELTA_BINARY_PACKED holds \(deltas.count) values, expected \(count)") }
            plain.removeAll(keepingCapacity: true)
            plain.reserveCapacity(count * width)
            for value in deltas {
                if width == 4 { withUnsafeBytes(of: Int32(truncatingIfNeeded: value).littleEndian) { plain += $0 } } else {
                    withUnsafeBytes(of: value.littleEndian) { plain += $0 }
                }
            }
            plain.withUnsafeBytes { NumberConversion.convert($0, count: count, numeric: numeric, width: width, into: out) }
        case ParquetEncoding.byteStreamSplit:
            guard let width else { throw EncodingError(message: "BYTE_STREAM_SPLIT on a byte-array column") }
            if plain.count < width * count { plain = [UInt8](repeating: 0, count: width * count) }
            try plain.withUnsafeMutableBytes { joined in
                try ByteStreamSplit.join(data, width: width, count: count, into: joined)
                NumberConversion.convert(UnsafeRawBufferPointer(joined), count: count, numeric: numeric, width: width, into: out)
            }
        case ParquetEncoding.deltaLengthByteArray, ParquetEncoding.deltaByteArray:
            var i = 0
            try byteArrays(encoding, data, count: count) { bytes in
                out[i] = NumberConversion.decimal(bytes, numeric: numeric)
                i += 1
            }
        default:
            throw EncodingError(message: "value encoding \(encoding) is not supported")
        }
    }

    private mutating func decodeBooleans(_ encoding: Int32, _ data: UnsafeRawBufferPointer, count: Int,
                                         into out: UnsafeMutablePointer<UInt8>) throws {
        switch encoding {
        case ParquetEncoding.plain:
            guard (count + 7) / 8 <= data.count else { throw EncodingError(message: "the page holds fewer values than its header says") }
            for i in 0..<count { out[i] = (data[i >> 3] >> UInt8(i & 7)) & 1 }
        case ParquetEncoding.rle:
            var cursor = ByteCursor(data)
            let length = Int(try cursor.uint32())
            var section = ByteCursor(try cursor.take(length))
            if indices.count < count { indices = [UInt32](repeating: 0, count: count) }
            try indices.withUnsafeMutableBufferPointer { idx in
                try HybridDecoder.decode(&section, width: 1, count: count, into: idx.baseAddress!)
                for i in 0..<count { out[i] = UInt8(truncatingIfNeeded: idx[i] & 1) }
            }
        default:
            throw EncodingError(message: "boolean encoding \(encoding) is not supported")
        }
    }

    private mutating func decodeStrings(_ encoding: Int32, _ data: UnsafeRawBufferPointer, count: Int,
                                        into out: UnsafeMutablePointer<UInt32>) throws {
        if encoding == ParquetEncoding.plainDictionary || encoding == ParquetEncoding.rleDictionary {
            guard let dictionary = dictionaryCodes else { throw EncodingError(message: "a dictionary-encoded page without a dictionary page") }
            try dictionaryIndices(data, count: count, size: dictionary.count)
            indices.withUnsafeBufferPointer { idx in
                dictionary.withUnsafeBufferPointer { dict in
                    for i in 0..<count { out[i] = dict[Int(idx[i])] }
                }
            }
            return
        }
        var i = 0
        var table = LevelTable()
        swap(&table, &self.table)
        defer { swap(&table, &self.table) }
        try byteArrays(encoding, data, count: count) { bytes in
            out[i] = table.intern(UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count), line: i)
            i += 1
        }
    }

    /// Each byte-array value of a page, in order.
    private mutating func byteArrays(_ encoding: Int32, _ data: UnsafeRawBufferPointer, count: Int,
                                     _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch encoding {
        case ParquetEncoding.plain:
            if physical == .fixedLenByteArray { try ByteArrayDecoder.fixed(data, width: typeLength, count: count, body) } else {
                try ByteArrayDecoder.plain(data, count: count, body)
            }
        case ParquetEncoding.deltaLengthByteArray:
            var cursor = ByteCursor(data)
            try ByteArrayDecoder.deltaLength(&cursor, count: count, lengths: &deltas, body)
        case ParquetEncoding.deltaByteArray:
            var cursor = ByteCursor(data)
            try ByteArrayDecoder.deltaStrings(&cursor, count: count, scratch: &byteScratch, body)
        case ParquetEncoding.byteStreamSplit where physical == .fixedLenByteArray:
            var joined = [UInt8](repeating: 0, count: typeLength * count)
            try joined.withUnsafeMutableBytes { try ByteStreamSplit.join(data, width: typeLength, count: count, into: $0) }
            try joined.withUnsafeBytes { try ByteArrayDecoder.fixed($0, width: typeLength, count: count, body) }
        default:
            throw EncodingError(message: "byte-array encoding \(encoding) is not supported")
        }
    }
}
